package template

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/apperr"
)

// FuzzRender feeds random template text and parameters through every function that takes
// parameters: none may panic, Check may only name variables or "parameters", and a valid template
// filled with plain values passes Check and builds its send components.
func FuzzRender(f *testing.F) {
	f.Add("Olá {{nome}}, aqui é {{atendente}}.", "Pedido {{nome}}", true, "nome", "João", "Ana", "abc")
	f.Add("Olá {{1}}, o total é {{2}}.", "Pedido {{1}}", false, "1", "123", "R$ 50", "abc")
	f.Add("{{2}} {{1}} {{01}} {{ 1 }} {{}} {{{1}}}", "", false, "3", "a\nb", "     ", "\x00")
	f.Add("{{a}}{{b}}{{a}}", "{{a}}{{b}}", true, "b", "", "\xff", "{{a}}")
	f.Fuzz(func(t *testing.T, body, header string, named bool, key, v1, v2, v3 string) {
		d := Definition{
			Name: "fuzz", Language: "pt_BR", Category: CategoryUtility,
			Components: []Component{
				{Type: "HEADER", Format: "TEXT", Text: header},
				{Type: "BODY", Text: body},
				{Type: "FOOTER", Text: "Loja"},
				{Type: "BUTTONS", Buttons: []Button{
					{Type: "QUICK_REPLY", Text: "Sim"},
					{Type: "URL", Text: "Ver", URL: "https://x.example/{{1}}"},
				}},
			},
		}
		if named {
			d.ParameterFormat = ParameterFormatNamed
		}
		vars := d.Variables()
		allowed := map[string]bool{"parameters": true}
		for _, v := range vars {
			require.False(t, allowed["parameters."+v], "variable %q listed twice", v)
			allowed["parameters."+v] = true
		}

		params := []Params{
			{},
			{Named: map[string]string{key: v1}},
			{Positional: []string{v1, v2, v3}},
			{Named: map[string]string{key: v1, "nome": v2}, Positional: []string{v3}},
		}
		if raw, err := json.Marshal(map[string]string{key: v1, "1": v2}); err == nil {
			p, _ := ParseParams(raw, d.ParameterFormat)
			params = append(params, p)
		}
		if raw, err := json.Marshal([]string{v1, v2, v3}); err == nil {
			p, _ := ParseParams(raw, d.ParameterFormat)
			params = append(params, p)
		}
		for _, p := range params {
			r := d.Render(p)
			require.Equal(t, "Loja", r.Footer)
			require.Len(t, r.Buttons, 2)
			for _, e := range d.Check(p) {
				require.True(t, allowed[e.Field], "field %q is not a variable", e.Field)
				require.NotEmpty(t, e.Code)
				require.NotEmpty(t, e.Message)
			}
			_, _ = d.SendComponents(p)
		}

		// With every variable filled with a plain value, nothing is left to complain about, and a
		// valid template builds its send components with a parameter for each variable.
		full := Params{Named: map[string]string{}}
		for _, v := range vars {
			full.Named[v] = "valor"
		}
		require.Empty(t, filterBodyLength(d.Check(full)))
		if len(d.Validate()) > 0 {
			return
		}
		if len(d.Check(full)) > 0 {
			return // the body grew past its limit
		}
		cs, err := d.SendComponents(full)
		require.NoError(t, err)
		n := 0
		for _, c := range cs {
			require.NotEmpty(t, c.Parameters)
			n += len(c.Parameters)
		}
		require.GreaterOrEqual(t, n, len(vars))
	})
}

// filterBodyLength drops the one failure a full set of plain values may still cause: a body
// whose short placeholders grow past the limit.
func filterBodyLength(errs []apperr.FieldError) []apperr.FieldError {
	var out []apperr.FieldError
	for _, e := range errs {
		if e.Field == "parameters" && strings.Contains(e.Message, "the body has") {
			continue
		}
		out = append(out, e)
	}
	return out
}

// FuzzParseComponents feeds random JSON to ParseComponents: it may fail but not panic, what it
// accepts survives a round trip through JSON, and every other function handles it.
func FuzzParseComponents(f *testing.F) {
	f.Add(`[{"type":"BODY","text":"Olá {{1}}"}]`)
	f.Add(`[{"type":"header","format":"text","text":"Pedido {{1}}","example":{"header_text":["123"]}},` +
		`{"type":"body","text":"Olá {{nome}}","example":{"body_text_named_params":[{"param_name":"nome","example":"Ana"}]}},` +
		`{"type":"footer","text":"Loja"},` +
		`{"type":"buttons","buttons":[{"type":"url","text":"Ver","url":"https://x.example/{{1}}","example":["https://x.example/a"]},` +
		`{"type":"copy_code","example":"CODE15"},{"type":"otp","otp_type":"COPY_CODE"}]}]`)
	f.Add(`null`)
	f.Add(`[null,{},{"type":"BUTTONS","buttons":[null]}]`)
	f.Add(`{"type":"BODY"}`)
	f.Add(`[{"type":"ß","format":"ǅ","text":"\u0000{{\u00ff}}","example":"<&>"}]`)
	f.Fuzz(func(t *testing.T, raw string) {
		cs, err := ParseComponents(json.RawMessage(raw))
		if err != nil {
			require.Nil(t, cs)
			return
		}
		for _, format := range []ParameterFormat{"", ParameterFormatNamed} {
			d := Definition{Name: "fuzz", Language: "pt_BR", Category: CategoryUtility, ParameterFormat: format, Components: cs}
			_ = d.Validate()
			vars := d.Variables()
			p := Params{Named: map[string]string{}}
			for _, v := range vars {
				p.Named[v] = "x"
			}
			_ = d.Render(Params{})
			_ = d.Render(p)
			_ = d.Check(p)
			_, _ = d.SendComponents(p)
		}

		first, err := json.Marshal(cs)
		require.NoError(t, err)
		again, err := ParseComponents(first)
		require.NoError(t, err)
		second, err := json.Marshal(again)
		require.NoError(t, err)
		require.Equal(t, string(first), string(second))
	})
}
