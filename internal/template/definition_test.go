package template

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/apperr"
)

// namedDef is a NAMED template with every kind of variable: header, body (sharing "nome" with the
// header) and a URL button's suffix.
func namedDef() Definition {
	return Definition{
		Name:            "pedido_enviado",
		Language:        "pt_BR",
		Category:        CategoryUtility,
		ParameterFormat: ParameterFormatNamed,
		Components: []Component{
			{Type: "HEADER", Format: "TEXT", Text: "Pedido de {{nome}}"},
			{Type: "BODY", Text: "Olá {{nome}}, aqui é {{atendente}}. Seu pedido {{pedido}} saiu; obrigado, {{nome}}!"},
			{Type: "FOOTER", Text: "Loja Exemplo"},
			{Type: "BUTTONS", Buttons: []Button{
				{Type: "QUICK_REPLY", Text: "Falar com atendente"},
				{Type: "URL", Text: "Rastrear", URL: "https://loja.example/rastreio/{{1}}"},
			}},
		},
	}
}

// positionalDef is the POSITIONAL template of the Cloud API notes' send example.
func positionalDef() Definition {
	return Definition{
		Name:     "order_update",
		Language: "pt_BR",
		Category: CategoryMarketing,
		Components: []Component{
			{Type: "HEADER", Format: "TEXT", Text: "Pedido {{1}}"},
			{Type: "BODY", Text: "Olá {{1}}, o total é {{2}}. Até logo, {{1}}."},
			{Type: "FOOTER", Text: "Responda SAIR para não receber"},
			{Type: "BUTTONS", Buttons: []Button{
				{Type: "URL", Text: "Ver pedido", URL: "https://loja.example/p/{{1}}"},
				{Type: "PHONE_NUMBER", Text: "Ligar", PhoneNumber: "+5511987654321"},
			}},
		},
	}
}

// bodyOnly is a template with just a body, in the given format.
func bodyOnly(f ParameterFormat, body string) Definition {
	return Definition{
		Name: "modelo", Language: "pt_BR", Category: CategoryUtility, ParameterFormat: f,
		Components: []Component{{Type: "BODY", Text: body}},
	}
}

// pairs turns field errors into "field code" strings for exact comparison.
func pairs(errs []apperr.FieldError) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Field+" "+e.Code)
	}
	return out
}

func TestParseComponents(t *testing.T) {
	t.Parallel()
	raw := json.RawMessage(`[
	  {"type":"header","format":"text","text":"Pedido {{1}}","example":{"header_text":["123"]}},
	  {"type":"BODY","text":"Olá {{1}}","example":{"body_text":[["Ana"]]}},
	  {"type":" Footer ","text":"Loja"},
	  {"type":"BUTTONS","buttons":[{"type":"url","text":"Ver","url":"https://x.example/{{1}}","example":["https://x.example/a"]},
	                               {"type":"phone_number","text":"Ligar","phone_number":"+5511987654321"}]}
	]`)
	cs, err := ParseComponents(raw)
	require.NoError(t, err)
	require.Len(t, cs, 4)
	require.Equal(t, "HEADER", cs[0].Type)
	require.Equal(t, "TEXT", cs[0].Format)
	require.JSONEq(t, `{"header_text":["123"]}`, string(cs[0].Example))
	require.Equal(t, "FOOTER", cs[2].Type)
	require.Equal(t, "URL", cs[3].Buttons[0].Type)
	require.Equal(t, "PHONE_NUMBER", cs[3].Buttons[1].Type)
	require.Equal(t, "+5511987654321", cs[3].Buttons[1].PhoneNumber)
	require.JSONEq(t, `["https://x.example/a"]`, string(cs[3].Buttons[0].Example))

	out, err := json.Marshal(cs)
	require.NoError(t, err)
	require.JSONEq(t, `[
	  {"type":"HEADER","format":"TEXT","text":"Pedido {{1}}","example":{"header_text":["123"]}},
	  {"type":"BODY","text":"Olá {{1}}","example":{"body_text":[["Ana"]]}},
	  {"type":"FOOTER","text":"Loja"},
	  {"type":"BUTTONS","buttons":[{"type":"URL","text":"Ver","url":"https://x.example/{{1}}","example":["https://x.example/a"]},
	                               {"type":"PHONE_NUMBER","text":"Ligar","phone_number":"+5511987654321"}]}
	]`, string(out))
}

func TestParseComponentsEmptyAndInvalid(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "  ", "null"} {
		cs, err := ParseComponents(json.RawMessage(raw))
		require.NoError(t, err, raw)
		require.Nil(t, cs, raw)
	}
	for _, raw := range []string{`{"type":"BODY"}`, `"BODY"`, `[{"type":1}]`, `[`, `[{"buttons":{}}]`} {
		cs, err := ParseComponents(json.RawMessage(raw))
		require.Error(t, err, raw)
		require.Nil(t, cs, raw)
		e, ok := apperr.As(err)
		require.True(t, ok, raw)
		require.Equal(t, apperr.KindInvalid, e.Kind)
		require.Equal(t, []string{"components components_invalid"}, pairs(e.Fields), raw)
	}
}

func TestValidateValid(t *testing.T) {
	t.Parallel()
	tests := map[string]Definition{
		"named":           namedDef(),
		"positional":      positionalDef(),
		"explicit format": func() Definition { d := positionalDef(); d.ParameterFormat = ParameterFormatPositional; return d }(),
		"no variables":    bodyOnly("", "Olá! Como podemos ajudar?"),
		"media header": {
			Name: "promo_2026", Language: "en_US", Category: CategoryMarketing,
			Components: []Component{{Type: "HEADER", Format: "IMAGE"}, {Type: "body", Text: "Hi {{1}}"}},
		},
		"lower-case types and a header without format": {
			Name: "x", Language: "en", Category: CategoryAuthentication, ParameterFormat: ParameterFormatNamed,
			Components: []Component{{Type: "header", Text: "Oi {{nome}}"}, {Type: "body", Text: "{{nome}}, {{codigo_2}} {{_x}}"}},
		},
		"limits exactly": {
			Name: strings.Repeat("a", 512), Language: "pt_BR", Category: CategoryUtility,
			Components: []Component{
				{Type: "HEADER", Format: "TEXT", Text: strings.Repeat("é", 60)},
				{Type: "BODY", Text: strings.Repeat("ç", 1024)},
				{Type: "FOOTER", Text: strings.Repeat("ã", 60)},
				{Type: "BUTTONS", Buttons: func() []Button {
					bs := make([]Button, 10)
					for i := range bs {
						bs[i] = Button{Type: "QUICK_REPLY", Text: "ok"}
					}
					return bs
				}()},
			},
		},
		"positional repeats and order": bodyOnly("", "{{1}} {{2}} {{1}} {{3}} {{2}}"),
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Empty(t, d.Validate())
		})
	}
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	body := Component{Type: "BODY", Text: "Olá"}
	def := func(cs ...Component) Definition {
		return Definition{Name: "modelo", Language: "pt_BR", Category: CategoryUtility, Components: cs}
	}
	named := func(cs ...Component) Definition {
		d := def(cs...)
		d.ParameterFormat = ParameterFormatNamed
		return d
	}
	with := func(f func(*Definition)) Definition {
		d := def(body)
		f(&d)
		return d
	}
	tests := []struct {
		name string
		def  Definition
		want []string
	}{
		{"name with capitals", with(func(d *Definition) { d.Name = "Boas_Vindas" }), []string{"name name_invalid"}},
		{"name with space", with(func(d *Definition) { d.Name = "boas vindas" }), []string{"name name_invalid"}},
		{"name empty", with(func(d *Definition) { d.Name = "" }), []string{"name name_invalid"}},
		{"name too long", with(func(d *Definition) { d.Name = strings.Repeat("a", 513) }), []string{"name name_invalid"}},
		{"language with hyphen", with(func(d *Definition) { d.Language = "pt-BR" }), []string{"language language_invalid"}},
		{"language lower region", with(func(d *Definition) { d.Language = "pt_br" }), []string{"language language_invalid"}},
		{"language empty", with(func(d *Definition) { d.Language = "" }), []string{"language language_invalid"}},
		{"category unknown", with(func(d *Definition) { d.Category = "SERVICE" }), []string{"category category_invalid"}},
		{"category lower case", with(func(d *Definition) { d.Category = "marketing" }), []string{"category category_invalid"}},
		{"category empty", with(func(d *Definition) { d.Category = "" }), []string{"category category_invalid"}},
		{"parameter format unknown", with(func(d *Definition) { d.ParameterFormat = "named" }), []string{"parameter_format parameter_format_invalid"}},
		{"no components", def(), []string{"components body_missing"}},
		{"no body", def(Component{Type: "FOOTER", Text: "x"}), []string{"components body_missing"}},
		{"empty body", def(Component{Type: "BODY", Text: "  "}), []string{"components[0].text body_missing"}},
		{"body too long", def(Component{Type: "BODY", Text: strings.Repeat("a", 1025)}), []string{"components[0].text body_too_long"}},
		{"two bodies", def(body, body), []string{"components[1].type component_invalid"}},
		{"unknown component", def(Component{Type: "CAROUSEL"}, body), []string{"components[0].type component_invalid"}},
		{"header without format or text", def(Component{Type: "HEADER"}, body), []string{"components[0].format component_invalid"}},
		{"header unknown format", def(Component{Type: "HEADER", Format: "GIF"}, body), []string{"components[0].format component_invalid"}},
		{"text header empty", def(Component{Type: "HEADER", Format: "TEXT"}, body), []string{"components[0].text component_invalid"}},
		{"header too long", def(Component{Type: "HEADER", Format: "TEXT", Text: strings.Repeat("a", 61)}, body), []string{"components[0].text header_too_long"}},
		{"header two variables", def(Component{Type: "HEADER", Format: "TEXT", Text: "{{1}} {{1}}"}, body), []string{"components[0].text variables_invalid"}},
		{"header positional not 1", def(Component{Type: "HEADER", Format: "TEXT", Text: "Pedido {{2}}"}, body), []string{"components[0].text variables_invalid"}},
		{"footer empty", def(body, Component{Type: "FOOTER"}), []string{"components[1].text component_invalid"}},
		{"footer too long", def(body, Component{Type: "FOOTER", Text: strings.Repeat("a", 61)}), []string{"components[1].text footer_too_long"}},
		{"footer variable", def(body, Component{Type: "FOOTER", Text: "Até {{1}}"}), []string{"components[1].text variables_invalid"}},
		{"no buttons", def(body, Component{Type: "BUTTONS"}), []string{"components[1].buttons component_invalid"}},
		{"too many buttons", def(body, Component{Type: "BUTTONS", Buttons: make11Buttons()}), []string{"components[1].buttons buttons_too_many"}},
		{"button without type", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Text: "x"}}}), []string{"components[1].buttons[0].type button_invalid"}},
		{"button without text", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Type: "QUICK_REPLY"}}}), []string{"components[1].buttons[0].text button_invalid"}},
		{"button text with variable", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Type: "QUICK_REPLY", Text: "Sim {{1}}"}}}), []string{"components[1].buttons[0].text variables_invalid"}},
		{"url button without url", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Type: "URL", Text: "Ver"}}}), []string{"components[1].buttons[0].url button_invalid"}},
		{"phone button without number", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Type: "PHONE_NUMBER", Text: "Ligar"}}}), []string{"components[1].buttons[0].phone_number button_invalid"}},
		{"url variable not 1", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Type: "URL", Text: "Ver", URL: "https://x.example/{{2}}"}}}), []string{"components[1].buttons[0].url variables_invalid"}},
		{"url variable not at the end", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Type: "URL", Text: "Ver", URL: "https://x.example/{{1}}/a"}}}), []string{"components[1].buttons[0].url variables_invalid"}},
		{"url two variables", def(body, Component{Type: "BUTTONS", Buttons: []Button{{Type: "URL", Text: "Ver", URL: "https://x.example/{{1}}{{1}}"}}}), []string{"components[1].buttons[0].url variables_invalid"}},
		{"named variable in positional", def(Component{Type: "BODY", Text: "Olá {{nome}}"}), []string{"components[0].text variables_invalid"}},
		{"positional starts at 2", def(Component{Type: "BODY", Text: "Olá {{2}}"}), []string{"components[0].text variables_invalid"}},
		{"positional out of order", def(Component{Type: "BODY", Text: "{{2}} e {{1}}"}), []string{"components[0].text variables_invalid"}},
		{"positional gap", def(Component{Type: "BODY", Text: "{{1}} e {{3}}"}), []string{"components[0].text variables_invalid"}},
		{"positional leading zero", def(Component{Type: "BODY", Text: "{{01}}"}), []string{"components[0].text variables_invalid"}},
		{"positional spaces inside", def(Component{Type: "BODY", Text: "{{ 1 }}"}), []string{"components[0].text variables_invalid"}},
		{"positional in named", named(Component{Type: "BODY", Text: "Olá {{1}}"}), []string{"components[0].text variables_invalid"}},
		{"capitals in named", named(Component{Type: "BODY", Text: "Olá {{Nome}}"}), []string{"components[0].text variables_invalid"}},
		{"empty placeholder in named", named(Component{Type: "BODY", Text: "Olá {{}}"}), []string{"components[0].text variables_invalid"}},
		{"hyphen in named", named(Component{Type: "BODY", Text: "Olá {{primeiro-nome}} e {{primeiro-nome}}"}), []string{"components[0].text variables_invalid"}},
		{"everything at once", Definition{
			Name: "Mau Nome", Language: "xx-YY", Category: "OUTRA", ParameterFormat: "SOMETHING",
			Components: []Component{
				{Type: "HEADER", Format: "TEXT", Text: strings.Repeat("h", 58) + "{{1}}{{2}}"},
				{Type: "FOOTER", Text: "{{1}}" + strings.Repeat("f", 60)},
				{Type: "BUTTONS", Buttons: append(make11Buttons(), Button{Type: "URL", Text: "Ver"})},
			},
		}, []string{
			"name name_invalid",
			"language language_invalid",
			"category category_invalid",
			"parameter_format parameter_format_invalid",
			"components[0].text header_too_long",
			"components[0].text variables_invalid",
			"components[1].text footer_too_long",
			"components[1].text variables_invalid",
			"components[2].buttons buttons_too_many",
			"components[2].buttons[11].url button_invalid",
			"components body_missing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := tt.def.Validate()
			require.Equal(t, tt.want, pairs(errs))
			for _, e := range errs {
				require.NotEmpty(t, e.Message)
			}
		})
	}
}

func make11Buttons() []Button {
	bs := make([]Button, 11)
	for i := range bs {
		bs[i] = Button{Type: "QUICK_REPLY", Text: "ok"}
	}
	return bs
}

func TestVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		def  Definition
		want []string
	}{
		{"design example named", bodyOnly(ParameterFormatNamed, "Olá {{nome}}, aqui é {{atendente}}."), []string{"nome", "atendente"}},
		{"design example positional", bodyOnly("", "Olá {{1}}, aqui é {{2}}."), []string{"1", "2"}},
		{"named repeats once, header first", namedDef(), []string{"nome", "atendente", "pedido", "button.1"}},
		{"positional: header.1, the body's numbers, button.<i>", positionalDef(), []string{"header.1", "1", "2", "button.0"}},
		{"no variables", bodyOnly("", "Olá!"), []string{}},
		{"invalid placeholders are not variables", bodyOnly(ParameterFormatNamed, "{{Nome}} {{1}} {{ok}} {{}}"), []string{"ok"}},
		{"named placeholders in a positional template are not variables", bodyOnly("", "{{nome}} {{1}}"), []string{"1"}},
		{"positional out of order", bodyOnly("", "{{2}} {{1}}"), []string{"1", "2"}},
		{"media header has no variables", Definition{Components: []Component{
			{Type: "HEADER", Format: "IMAGE", Text: "{{1}}"}, {Type: "BODY", Text: "{{1}}"},
		}}, []string{"1"}},
		{"URL buttons are keyed by their position", Definition{ParameterFormat: ParameterFormatNamed, Components: []Component{
			{Type: "BODY", Text: "{{nome}}"},
			{Type: "BUTTONS", Buttons: []Button{
				{Type: "URL", URL: "https://a.example/{{1}}"},
				{Type: "URL", URL: "https://b.example/"},
				{Type: "url", URL: "https://c.example/{{1}}"},
			}},
		}}, []string{"nome", "button.0", "button.2"}},
		{"only the first body counts", Definition{Components: []Component{
			{Type: "BODY", Text: "{{1}}"}, {Type: "BODY", Text: "{{1}} {{2}}"},
		}}, []string{"1"}},
		{"component order does not matter", Definition{ParameterFormat: ParameterFormatNamed, Components: []Component{
			{Type: "BODY", Text: "{{b}} {{a}}"}, {Type: "HEADER", Format: "TEXT", Text: "{{a}}"},
		}}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.def.Variables())
		})
	}
}

func TestStatusCategoryFormat(t *testing.T) {
	t.Parallel()
	for _, s := range []Status{StatusApproved, StatusPending, StatusRejected, StatusPaused, StatusDisabled} {
		require.True(t, s.IsKnown(), s)
		require.Equal(t, s == StatusApproved, s.Sendable(), s)
	}
	for _, s := range []Status{"", "approved", "IN_APPEAL", "PENDING_DELETION"} {
		require.False(t, s.IsKnown(), s)
		require.False(t, s.Sendable(), s)
	}
	for _, c := range []Category{CategoryMarketing, CategoryUtility, CategoryAuthentication} {
		require.True(t, c.IsKnown(), c)
	}
	require.False(t, Category("utility").IsKnown())
	require.True(t, ParameterFormat("").IsKnown())
	require.True(t, ParameterFormatPositional.IsKnown())
	require.True(t, ParameterFormatNamed.IsKnown())
	require.False(t, ParameterFormat("named").IsKnown())
	require.True(t, ParameterFormatNamed.IsNamed())
	require.False(t, ParameterFormat("").IsNamed())
}

func TestVariableDetails(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	positional := positionalDef()
	positional.Components[0].Example = json.RawMessage(`{"header_text":["2024-0042"]}`)
	positional.Components[1].Example = json.RawMessage(`{"body_text":[["Maria","R$ 99,90"]]}`)
	positional.Components[3].Buttons[0].Example = json.RawMessage(`["https://loja.example/p/XYZ-1"]`)
	named := Definition{ParameterFormat: ParameterFormatNamed, Components: []Component{
		{Type: "HEADER", Format: "TEXT", Text: "Protocolo {{protocolo}}", Example: json.RawMessage(
			`{"header_text_named_params":[{"param_name":"protocolo","example":"2024-0042"}]}`)},
		{Type: "BODY", Text: "Olá {{nome}}, protocolo {{protocolo}}, aqui é {{atendente}}.", Example: json.RawMessage(
			`{"body_text_named_params":[{"param_name":"nome","example":"Maria"},{"param_name":"protocolo","example":"ignored: the header's came first"}]}`)},
		{Type: "BUTTONS", Buttons: []Button{
			{Type: "QUICK_REPLY", Text: "Sair"},
			{Type: "URL", Text: "Acompanhar", URL: "https://a.example/{{1}}", Example: json.RawMessage(`"https://other.example/abc"`)},
		}},
	}}
	tests := []struct {
		name string
		def  Definition
		want []VariableDetail
	}{
		{"positional with header, body and URL button", positional, []VariableDetail{
			{Key: "header.1", Component: "HEADER", Label: "[1]", Example: str("2024-0042")},
			{Key: "1", Component: "BODY", Label: "[1]", Example: str("Maria")},
			{Key: "2", Component: "BODY", Label: "[2]", Example: str("R$ 99,90")},
			{Key: "button.0", Component: "BUTTON", Label: "[1]", Example: str("XYZ-1")},
		}},
		{"named: a header variable also in the body is placed in the body", named, []VariableDetail{
			{Key: "protocolo", Component: "BODY", Label: "[PROTOCOLO]", Example: str("2024-0042")},
			{Key: "nome", Component: "BODY", Label: "[NOME]", Example: str("Maria")},
			{Key: "atendente", Component: "BODY", Label: "[ATENDENTE]"},
			{Key: "button.1", Component: "BUTTON", Label: "[1]", Example: str("https://other.example/abc")},
		}},
		{"no examples", namedDef(), []VariableDetail{
			{Key: "nome", Component: "BODY", Label: "[NOME]"},
			{Key: "atendente", Component: "BODY", Label: "[ATENDENTE]"},
			{Key: "pedido", Component: "BODY", Label: "[PEDIDO]"},
			{Key: "button.1", Component: "BUTTON", Label: "[1]"},
		}},
		{"header-only variable", Definition{ParameterFormat: ParameterFormatNamed, Components: []Component{
			{Type: "HEADER", Format: "TEXT", Text: "{{protocolo}}"}, {Type: "BODY", Text: "Oi", Example: json.RawMessage(`{"body_text":"malformed"}`)},
		}}, []VariableDetail{{Key: "protocolo", Component: "HEADER", Label: "[PROTOCOLO]"}}},
		{"none", bodyOnly("", "Olá!"), []VariableDetail{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.def.VariableDetails())
		})
	}
}
