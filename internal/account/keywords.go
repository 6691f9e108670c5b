package account

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
)

// The keywords a new account starts with (the migration's defaults for existing accounts).
var (
	DefaultOptOutKeywords = []string{"SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR"}
	DefaultOptInKeywords  = []string{"VOLTAR"}
)

// maxConfirmation is WhatsApp's limit of a text message.
const maxConfirmation = 1024

// keywordList reads a stored JSON keyword list; an unreadable one is empty.
func keywordList(s string) []string {
	var out []string
	_ = json.Unmarshal([]byte(s), &out)
	if out == nil {
		out = []string{}
	}
	return out
}

// keywordJSON is the stored form of a keyword list.
func keywordJSON(ws []string) string {
	b, _ := json.Marshal(ws)
	return string(b)
}

// keywordUpdates checks the consent settings of in and adds the valid ones to updates. A keyword
// may not be in both lists (it would mean both), counting the stored list the request leaves as it is.
func (s *Service) keywordUpdates(ctx context.Context, in Settings, updates map[string]any) apperr.Fields {
	var f apperr.Fields
	out, inn := []string(nil), []string(nil)
	if in.OptOutKeywords != nil {
		ws, fs := contact.ParseKeywords("opt_out_keywords", *in.OptOutKeywords)
		if len(ws) == 0 && len(fs) == 0 {
			fs.Add("opt_out_keywords", "keyword_invalid", "at least one opt-out keyword is needed")
		}
		f, out = append(f, fs...), ws
		updates["opt_out_keywords"] = keywordJSON(ws)
	}
	if in.OptInKeywords != nil {
		ws, fs := contact.ParseKeywords("opt_in_keywords", *in.OptInKeywords)
		f, inn = append(f, fs...), ws
		updates["opt_in_keywords"] = keywordJSON(ws)
	}
	if in.OptOutConfirmation != nil {
		c := strings.TrimSpace(*in.OptOutConfirmation)
		if !utf8.ValidString(c) || utf8.RuneCountInString(c) > maxConfirmation {
			f.Add("opt_out_confirmation", "opt_out_confirmation_invalid", "opt_out_confirmation must have at most 1024 characters")
		}
		updates["opt_out_confirmation"] = c
	}
	if out == nil && inn == nil {
		return f
	}
	if out == nil || inn == nil {
		cur, err := s.Current(ctx)
		if err != nil {
			return f // the update reads the account again and reports the failure
		}
		if out == nil {
			out = cur.OptOutKeywords
		}
		if inn == nil {
			inn = cur.OptInKeywords
		}
	}
	both := contact.Keywords{OptOut: out}
	for i, w := range inn {
		if optedOut, ok := both.Match(w); ok && optedOut {
			f.Add(fmt.Sprintf("opt_in_keywords[%d]", i), "keyword_invalid", "the keyword is also an opt-out keyword")
		}
	}
	return f
}

// ConsentKeywords returns the context's account's consent keywords and opt-out reply. Every
// inbound text is matched against them, so they are cached like the region (settingTTL).
func (s *Service) ConsentKeywords(ctx context.Context) (contact.Keywords, error) {
	acc := store.AccountID(ctx)
	return s.keywords.get(acc, func() (contact.Keywords, error) {
		var r accountRow
		if err := s.db.Conn(ctx).Table("accounts").Where("id = ?", acc).Take(&r).Error; err != nil {
			return contact.Keywords{}, store.Translate(err, nil, nil)
		}
		return contact.Keywords{OptOut: keywordList(r.OptOutKeywords), OptIn: keywordList(r.OptInKeywords), Confirmation: r.OptOutConfirmation}, nil
	})
}
