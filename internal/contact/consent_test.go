package contact_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/store/storetest"
)

// A reply counts as a keyword only when it is the keyword, whatever its case, accents and the
// spaces and punctuation around it.
func TestKeywordsMatch(t *testing.T) {
	t.Parallel()
	kw := contact.Keywords{OptOut: []string{"SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR", "não quero"}, OptIn: []string{"VOLTAR"}}
	for _, tc := range []struct {
		text          string
		optedOut, hit bool
	}{
		{"SAIR", true, true}, {" sair! ", true, true}, {"Sáir", true, true}, {"PARAR", true, true}, {"descadastrar", true, true},
		{"  Stop.", true, true}, {"¡cancelar!!! 🙏", true, true}, {"Não  quero", true, true}, {"voltar", false, true}, {"VOLTAR 😀", false, true},
		{"vou sair agora", false, false}, {"sair?sim", false, false}, {"", false, false}, {"!!!", false, false}, {"saira", false, false},
	} {
		optedOut, hit := kw.Match(tc.text)
		require.Equal(t, tc.hit, hit, "%q", tc.text)
		require.Equal(t, tc.optedOut, optedOut, "%q", tc.text)
	}
}

func TestParseKeywords(t *testing.T) {
	t.Parallel()
	got, f := contact.ParseKeywords("opt_out_keywords", []string{" Sair ", "PARAR"})
	require.Empty(t, f)
	require.Equal(t, []string{"Sair", "PARAR"}, got)
	_, f = contact.ParseKeywords("opt_out_keywords", []string{"sair", "SÁIR!", "", "x\ny", "uma palavra longa demais para ser uma palavra-chave"})
	var fields []string
	for _, e := range f {
		fields = append(fields, e.Field+":"+e.Code)
	}
	require.Equal(t, []string{"opt_out_keywords[1]:keyword_invalid", "opt_out_keywords[2]:keyword_invalid",
		"opt_out_keywords[3]:keyword_invalid", "opt_out_keywords[4]:keyword_invalid"}, fields)
}

// The contact's state follows the latest fact by when it happened; replays are kept once.
func TestRecordConsentLatestWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := newAccount(t, db, "Loja")
		svc := contact.NewService(db, nil)
		c := create(t, svc, ctx, "Ana", "11 98765-4321")
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

		rec, err := svc.RecordConsent(ctx, c.ID, contact.ConsentInput{OptedOut: false, Source: contact.SourceMeta, At: t0.Add(time.Minute), DedupeKey: "k2"})
		require.NoError(t, err)
		require.True(t, rec.Current)
		rec, err = svc.RecordConsent(ctx, c.ID, contact.ConsentInput{OptedOut: true, Source: contact.SourceMeta, At: t0, DedupeKey: "k1"})
		require.NoError(t, err)
		require.False(t, rec.Current, "older than the current fact")
		rec, err = svc.RecordConsent(ctx, c.ID, contact.ConsentInput{OptedOut: true, Source: contact.SourceMeta, At: t0, DedupeKey: "k1"})
		require.NoError(t, err)
		require.True(t, rec.Duplicate)

		got, err := svc.Get(ctx, c.ID)
		require.NoError(t, err)
		require.False(t, got.MarketingOptedOut)
		require.True(t, got.MarketingConsentAt.Equal(t0.Add(time.Minute)))

		page1, next, err := svc.ConsentHistory(ctx, c.ID, store.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, page1, 1)
		require.False(t, page1[0].OptedOut)
		require.NotNil(t, next)
		page2, next, err := svc.ConsentHistory(ctx, c.ID, store.Page{Limit: 1, Cursor: *next})
		require.NoError(t, err)
		require.Len(t, page2, 1)
		require.True(t, page2[0].OptedOut)
		require.Nil(t, next)
	})
}
