package e2e

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// waitWithin polls cond until it holds, failing the test after within. Polling a state with a
// deadline is waiting for an event; the interval only bounds how soon it is seen.
func waitWithin(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		<-tick.C
	}
}

// sentTo returns the messages the fake accepted for the recipient (as sent, "+55…"), in order.
func sentTo(f *whatsapptest.Fake, to string) []whatsapptest.Message {
	var out []whatsapptest.Message
	for _, m := range f.Messages() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// settle returns once every send the dispatcher could have started before it was called has
// reached the fake, so "nothing more leaves" is proven by what the fake holds, with no fixed
// wait. It starts a conversation with a new contact and waits for its opening at the fake,
// twice. A claim takes the earliest due rows first, so a row that was due before the first
// opening is claimed no later than it; the second opening is created after the first reached
// the fake, so a later claim takes it, and the dispatcher claims again only once every send of
// the previous batch has finished. Each call adds two openings at the fake. (One instance:
// the batches of two instances are not ordered.)
func (c *cloud) settle(t *testing.T) {
	t.Helper()
	for range 2 {
		c.barriers++
		c.start(t, fmt.Sprintf("11 9%04d-%04d", 9900, c.barriers))
		to := fmt.Sprintf("+55119%04d%04d", 9900, c.barriers)
		waitFor(t, "the opening to "+to+" at the fake", func() bool { return len(sentTo(c.fake, to)) == 1 })
	}
}

// sandboxBarriers numbers the contacts settleSandbox starts.
var sandboxBarriers atomic.Int32

// settleSandbox is settle on the demo sandbox channel: it returns once every send the
// dispatcher could have started before it was called is recorded, starting two conversations
// one after the other and waiting for each opening to be sent.
func settleSandbox(t *testing.T, env *apptest.Env) {
	t.Helper()
	for range 2 {
		convID, _ := sandboxStart(t, env, fmt.Sprintf("21 9%04d-%04d", 9900, sandboxBarriers.Add(1)))
		waitFor(t, "the opening of "+convID+" sent", func() bool {
			st := convMessages(t, env, convID)[0]["status"]
			return st == "sent" || st == "delivered"
		})
	}
}
