package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
	"github.com/atendimento/atendimento/internal/store/storetest"
	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// TestReleaseRacesWithdraw releases 60 waiting conversations (the contact's reply) while, at
// the same instant, agents withdraw two of each one's three queued messages and post a fourth:
// every withdrawn message is either gone for good (204, never sent) or was released first (409,
// sent exactly once), never both and never neither; every post answered 201 is sent once, in
// order. (Parallel starts and parallel posts are tested in api/.)
func TestReleaseRacesWithdraw(t *testing.T) {
	t.Parallel()
	seed := randomSeed(t)
	for i, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			const convs = 60
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
			fake := whatsapptest.NewFake(t)
			fake.SetAccessToken(token)
			env := apptest.New(t, e.Open(t), apptest.Options{Configure: func(cfg *app.Config) {
				cfg.WhatsAppAPIBaseURL = fake.URL
				cfg.Dispatch.ChannelRate = 100000
			}})
			c := setupCloud(t, fake, env)

			type race struct {
				id, phone string
				queued    []string // message ids of c<i>-m0..m2
				delay     [3]time.Duration
			}
			races := make([]*race, convs)
			var wg sync.WaitGroup
			for i := range convs {
				r := &race{phone: fmt.Sprintf("55119%04d%04d", 6300+i, i)}
				for k := range r.delay {
					r.delay[k] = time.Duration(rng.IntN(3000)) * time.Microsecond
				}
				races[i] = r
				wg.Go(func() {
					r.id = c.start(t, fmt.Sprintf("11 9%04d-%04d", 6300+i, i))
					for j := range 3 {
						r.queued = append(r.queued, c.post(t, r.id, fmt.Sprintf("c%d-m%d", i, j)))
					}
				})
			}
			wg.Wait()
			require.True(t, fake.WaitFor(convs, 20*time.Second))

			// At once, per conversation: the reply, two withdrawals and a post, each after a
			// random 0-3 ms.
			go1 := make(chan struct{})
			// at runs fn once go1 is closed and d has passed. The random 0-3 ms offsets are the
			// point of the test (they vary the interleaving of the racing requests), so here a
			// real wait is needed: it waits for nothing in particular.
			at := func(d time.Duration, fn func()) {
				wg.Go(func() {
					<-go1
					time.Sleep(d)
					fn()
				})
			}
			withdraw := make([][2]int, convs) // statuses of the DELETEs of m1 and m2
			posted := make([]int, convs)
			for i, r := range races {
				at(r.delay[0], func() {
					require.Equal(t, http.StatusOK, c.webhook(t, inbound(r.phone, fmt.Sprintf("wamid.race.%d", i), "oi", time.Now())).Status)
				})
				for k := range 2 {
					at(r.delay[1+k], func() {
						withdraw[i][k] = c.Admin.Delete("/api/v1/conversations/" + r.id + "/messages/" + r.queued[1+k]).Status
					})
				}
				at(r.delay[2]/2, func() {
					posted[i] = c.Admin.Post("/api/v1/conversations/"+r.id+"/messages", map[string]any{"text": fmt.Sprintf("c%d-m3", i)}).Status
				})
			}
			close(go1)
			wg.Wait()

			want, gone, late := convs, 0, 0 // the openings
			for i := range races {
				want++ // m0 is never withdrawn
				for k := range 2 {
					switch withdraw[i][k] {
					case http.StatusNoContent:
						gone++
					case http.StatusConflict:
						late++
						want++
					default:
						t.Fatalf("withdraw answered %d", withdraw[i][k])
					}
				}
				require.Equal(t, http.StatusCreated, posted[i])
				want++
			}
			// Each conversation's last message, c<i>-m3, leaves after every earlier one that was
			// going to leave (a conversation's messages go strictly in order): once all are at the
			// fake, anything withdrawn yet sent would be there too.
			waitWithin(t, "every conversation's last message at the fake", 20*time.Second, func() bool {
				got := sentTexts(t, fake)
				for i, r := range races {
					texts := got["+"+r.phone]
					if len(texts) == 0 || texts[len(texts)-1] != fmt.Sprintf("c%d-m3", i) {
						return false
					}
				}
				return true
			})
			got := sentTexts(t, fake)
			total, distinct, _ := delivered(t, fake)
			require.Equal(t, want, total, "no message sent twice, none withdrawn sent")
			require.Equal(t, want, distinct)
			for i, r := range races {
				texts := got["+"+r.phone]
				expect := []string{fmt.Sprintf("c%d-m0", i)}
				for k := range 2 {
					if withdraw[i][k] == http.StatusConflict {
						expect = append(expect, fmt.Sprintf("c%d-m%d", i, 1+k))
					}
				}
				expect = append(expect, fmt.Sprintf("c%d-m3", i))
				require.Equal(t, expect, texts, "conversation %d: withdrawn messages never sent, released ones once, in order", i)
				msgs := c.messages(t, r.id)
				for _, m := range msgs {
					require.NotEqual(t, "queued", m["status"], "nothing stays queued on an active conversation")
				}
			}
			t.Logf("reliability: races %s: %d release/withdraw races: %d withdrawn (never sent), %d refused 409 (sent once); %d posts racing the release sent once",
				e.Name, 2*convs, gone, late, convs)
		})
	}
}
