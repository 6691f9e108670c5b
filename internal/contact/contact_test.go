package contact_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

func str(s string) *string { return &s }

// newAccount creates an account (region BR) and returns a context acting for it.
func newAccount(t *testing.T, db *store.DB, name string) context.Context {
	t.Helper()
	acc, err := account.NewService(db).CreateAccount(context.Background(), name, "BR")
	require.NoError(t, err)
	return store.WithAccount(context.Background(), acc.ID)
}

func create(t *testing.T, svc *contact.Service, ctx context.Context, name, phone string) contact.Contact {
	t.Helper()
	c, err := svc.Create(ctx, contact.Input{Name: str(name), Phone: str(phone)})
	require.NoError(t, err)
	return c
}

// Phones typed in any national or international form are stored in E.164 and found again by
// any other form; the same number twice is a conflict naming the existing contact.
func TestPhonesAreNormalisedAndUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := newAccount(t, db, "Loja")
		svc := contact.NewService(db, nil)
		c := create(t, svc, ctx, "João da Silva", "(11) 98765-4321")
		require.Equal(t, "+5511987654321", c.Phone)

		_, err := svc.Create(ctx, contact.Input{Name: str("Outro"), Phone: str("+55 11 98765 4321")})
		e, ok := apperr.As(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, "contact_exists", e.Code)
		require.Equal(t, c.ID, e.Extra["existing_id"])

		got, err := svc.Lookup(ctx, "5511987654321")
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
		_, err = svc.Lookup(ctx, "11 91234-0000")
		require.True(t, errors.Is(err, contact.ErrNotFound), "%v", err)
		_, err = svc.Lookup(ctx, "12")
		require.Equal(t, []string{"phone:phone_invalid"}, apperr.FieldsOf(err).Codes(), "%v", err)

		// FindOrCreate returns the same contact for the same number instead of failing.
		again, err := svc.FindOrCreate(ctx, contact.Input{Phone: str("11987654321")}, "contact.")
		require.NoError(t, err)
		require.Equal(t, c.ID, again.ID)

		// Changing another contact to the number is the same conflict.
		other := create(t, svc, ctx, "Maria", "21 99876-5432")
		_, err = svc.Update(ctx, other.ID, contact.Input{Phone: str("11 98765-4321")})
		e, ok = apperr.As(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, "contact_exists", e.Code)
	})
}

// Every failing field of a new contact is reported at once, under the caller's JSON path.
func TestCheckReportsEveryField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := newAccount(t, db, "Loja")
		svc := contact.NewService(db, nil)
		f := svc.Check(ctx, contact.Input{Name: str("a\x1bb"), Phone: str("abc"), Email: str("not-an-email")}, "contact.")
		require.Equal(t, []string{"contact.name:name_invalid", "contact.phone:phone_invalid", "contact.email:email_invalid"}, f.Codes())
		require.Equal(t, []string{"contact.phone:phone_invalid"}, svc.Check(ctx, contact.Input{}, "contact.").Codes())
	})
}

// Search matches names ignoring case and accents and phones by their digits; LIKE's wildcards
// typed by a user match only themselves.
func TestSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := newAccount(t, db, "Loja")
		svc := contact.NewService(db, nil)
		joao := create(t, svc, ctx, "João da Silva", "11 98765-4321")
		maria := create(t, svc, ctx, "Maria Conceição", "21 99876-5432")
		percent := create(t, svc, ctx, "100% Cliente", "31 99999-0000")

		search := func(q string) []string {
			t.Helper()
			got, _, err := svc.List(ctx, q, store.Page{})
			require.NoError(t, err)
			ids := []string{}
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			return ids
		}
		require.ElementsMatch(t, []string{joao.ID}, search("JOAO"))
		require.ElementsMatch(t, []string{maria.ID}, search("conceicao"))
		require.ElementsMatch(t, []string{maria.ID}, search("99876"))
		require.ElementsMatch(t, []string{percent.ID}, search("%"))
		require.ElementsMatch(t, []string{joao.ID, maria.ID, percent.ID}, search(""))
		require.Empty(t, search("_"))
	})
}

// A Brazilian wa_id without the ninth digit finds the contact stored with it, and no account
// sees another's contacts.
func TestWhatsAppIDsAndAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := newAccount(t, db, "Loja")
		svc := contact.NewService(db, nil)
		c := create(t, svc, ctx, "João", "11 98765-4321")
		got, err := svc.FindByWhatsApp(ctx, "551187654321")
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
		require.NoError(t, svc.SetWaID(ctx, c.ID, "551187654321"))
		got, err = svc.Get(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, "551187654321", got.WaID)

		other := newAccount(t, db, "Outra")
		_, err = svc.Get(other, c.ID)
		require.True(t, errors.Is(err, contact.ErrNotFound), "%v", err)
		_, err = svc.FindByWhatsApp(other, "5511987654321")
		require.True(t, errors.Is(err, contact.ErrNotFound), "%v", err)
		mine := create(t, svc, other, "João", "11 98765-4321")
		require.NotEqual(t, c.ID, mine.ID, "the same number may be a contact of each account")
	})
}

// FindOrCreateSenders resolves a batch as FindByWhatsApp, FindOrCreate and SetWaID would one by
// one: an existing contact by any form of its number (its wa_id recorded), a new number created
// once under its E.164 form even when two wa_ids of it (with and without Brazil's ninth digit)
// come in the batch, and a number that is no number left out.
func TestFindOrCreateSendersResolvesABatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := newAccount(t, db, "Senders")
		svc := contact.NewService(db, nil)
		old := create(t, svc, ctx, "Antiga", "+5511987650001")
		got, err := svc.FindOrCreateSenders(ctx, []contact.Sender{{WaID: "551187650001", Name: "Antiga"},
			{WaID: "5511987650002", Name: "Nova"}, {WaID: "551187650002", Name: "Nova"}, {WaID: "12", Name: "Nada"}})
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, old.ID, got["551187650001"].ID)
		require.Equal(t, "+5511987650002", got["5511987650002"].Phone)
		require.Equal(t, got["5511987650002"].ID, got["551187650002"].ID, "one contact for both forms")
		again, err := svc.FindByWhatsApp(ctx, "551187650001")
		require.NoError(t, err)
		require.Equal(t, "551187650001", again.WaID, "the wa_id Meta reported is recorded")
		n, err := svc.FindByWhatsApp(ctx, "551187650002")
		require.NoError(t, err)
		require.Equal(t, "551187650002", n.WaID)
	})
}
