package template

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/apperr"
)

func TestParseParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		raw      string
		format   ParameterFormat
		want     Params
		wantErrs []string
	}{
		{"absent", "", ParameterFormatNamed, Params{}, nil},
		{"null", " null ", "", Params{}, nil},
		{"named object", `{"nome":"João","atendente":"Ana"}`, ParameterFormatNamed,
			Params{Named: map[string]string{"nome": "João", "atendente": "Ana"}}, nil},
		{"empty object", `{}`, ParameterFormatNamed, Params{}, nil},
		{"numbers kept as written", `{"total":50.00,"qtd":-3,"big":1e3}`, ParameterFormatNamed,
			Params{Named: map[string]string{"total": "50.00", "qtd": "-3", "big": "1e3"}}, nil},
		{"positional array", `["João","Ana"]`, ParameterFormatPositional, Params{Positional: []string{"João", "Ana"}}, nil},
		{"positional array, format empty", `["João", 7]`, "", Params{Positional: []string{"João", "7"}}, nil},
		{"positional object", `{"1":"João","2":"Ana"}`, "", Params{Named: map[string]string{"1": "João", "2": "Ana"}}, nil},
		{"escaped text", `{"nome":"Jo\u00e3o \"J\""}`, ParameterFormatNamed, Params{Named: map[string]string{"nome": `João "J"`}}, nil},
		{"array for named", `["João"]`, ParameterFormatNamed, Params{}, []string{"parameters parameter_invalid"}},
		{"string", `"João"`, "", Params{}, []string{"parameters parameter_invalid"}},
		{"number", `12`, ParameterFormatNamed, Params{}, []string{"parameters parameter_invalid"}},
		{"malformed", `{"nome":`, ParameterFormatNamed, Params{}, []string{"parameters parameter_invalid"}},
		{"trailing data", `{"nome":"a"} {}`, ParameterFormatNamed,
			Params{Named: map[string]string{"nome": "a"}}, []string{"parameters parameter_invalid"}},
		{"non-string values, all reported", `{"a":true,"b":null,"c":{"x":1},"d":["x"],"e":"ok"}`, ParameterFormatNamed,
			Params{Named: map[string]string{"e": "ok"}},
			[]string{"parameters parameter_invalid", "parameters parameter_invalid", "parameters parameter_invalid", "parameters parameter_invalid"}},
		{"duplicate key", `{"nome":"a","nome":"b"}`, ParameterFormatNamed,
			Params{Named: map[string]string{"nome": "a"}}, []string{"parameters parameter_invalid"}},
		{"bad array element keeps its place", `["a",null,"c"]`, "",
			Params{Positional: []string{"a", "", "c"}}, []string{"parameters parameter_invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, errs := ParseParams(json.RawMessage(tt.raw), tt.format)
			if tt.wantErrs == nil {
				require.Nil(t, errs)
			} else {
				require.Equal(t, tt.wantErrs, pairs(errs))
			}
			require.Equal(t, len(tt.want.Named), len(p.Named))
			for k, v := range tt.want.Named {
				require.Equal(t, v, p.Named[k], k)
			}
			require.Equal(t, tt.want.Positional, p.Positional)
		})
	}
}

func TestParamsValue(t *testing.T) {
	t.Parallel()
	p := Params{Named: map[string]string{"nome": "João", "2": "dois"}, Positional: []string{"um", "posicional"}}
	for key, want := range map[string]string{"nome": "João", "1": "um", "2": "dois"} {
		v, ok := p.Value(key)
		require.True(t, ok, key)
		require.Equal(t, want, v, key)
	}
	for _, key := range []string{"3", "0", "01", "-1", "atendente", "99999999999999999999"} {
		_, ok := p.Value(key)
		require.False(t, ok, key)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	named := namedDef()
	positional := positionalDef()
	okNamed := func(change map[string]string) Params {
		m := map[string]string{"nome": "João", "atendente": "Ana", "pedido": "123", "button.1": "abc123"}
		for k, v := range change {
			if v == "<delete>" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return Params{Named: m}
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		def  Definition
		p    Params
		want []string
	}{
		{"named ok", named, okNamed(nil), nil},
		{"positional object ok", positional, Params{Named: map[string]string{"header.1": "123", "1": "Ana", "2": "R$ 50", "button.0": "abc123"}}, nil},
		{"positional array fills the body", bodyOnly("", "Olá {{1}}, {{2}}"), Params{Positional: []string{"Ana", "R$ 50"}}, nil},
		{"positional array fills only the body", positional, Params{Positional: []string{"Ana", "R$ 50"}}, []string{
			"parameters.header.1 parameter_missing", "parameters.button.0 parameter_missing",
		}},
		{"old cross-component keys are unknown", positional, Params{Named: map[string]string{"header.1": "123", "1": "Ana", "2": "R$ 50", "3": "x", "4": "abc123"}}, []string{
			"parameters.button.0 parameter_missing", "parameters parameter_unknown", "parameters parameter_unknown",
		}},
		{"no variables, no params", bodyOnly("", "Olá!"), Params{}, nil},
		{"four spaces and unicode are fine", named, okNamed(map[string]string{"atendente": "Ana    Maria 😀"}), nil},
		{"body value and body at their limit", bodyOnly(ParameterFormatNamed, "{{pedido}}"), Params{Named: map[string]string{"pedido": strings.Repeat("ç", 1024)}}, nil},
		{"body at its limit", bodyOnly(ParameterFormatNamed, "{{a}}{{b}}"), Params{Named: map[string]string{"a": long(512), "b": long(512)}}, nil},
		{"header value at its limit", named, okNamed(map[string]string{"nome": long(60)}), nil},
		{"url value at its limit", named, okNamed(map[string]string{"button.1": long(2000)}), nil},
		{"all missing, in variable order", named, Params{}, []string{
			"parameters.nome parameter_missing", "parameters.atendente parameter_missing",
			"parameters.pedido parameter_missing", "parameters.button.1 parameter_missing",
		}},
		{"positional missing", positional, Params{Named: map[string]string{"header.1": "123", "1": "Ana"}}, []string{
			"parameters.2 parameter_missing", "parameters.button.0 parameter_missing",
		}},
		{"unknown named", named, okNamed(map[string]string{"nme": "x", "zz": "y"}), []string{
			"parameters parameter_unknown", "parameters parameter_unknown",
		}},
		{"positional array too long", bodyOnly("", "Olá {{1}}"), Params{Positional: []string{"a", "b", "c"}}, []string{
			"parameters parameter_unknown", "parameters parameter_unknown",
		}},
		{"positional key in named template", bodyOnly(ParameterFormatNamed, "Olá {{nome}}"), Params{Named: map[string]string{"nome": "a", "1": "b"}}, []string{
			"parameters parameter_unknown",
		}},
		{"empty", named, okNamed(map[string]string{"atendente": ""}), []string{"parameters.atendente parameter_invalid"}},
		{"blank", named, okNamed(map[string]string{"atendente": " \u00a0 "}), []string{"parameters.atendente parameter_invalid"}},
		{"blank url suffix", named, okNamed(map[string]string{"button.1": " "}), []string{"parameters.button.1 parameter_invalid"}},
		{"newline", named, okNamed(map[string]string{"atendente": "Ana\nMaria"}), []string{"parameters.atendente parameter_invalid"}},
		{"carriage return", named, okNamed(map[string]string{"atendente": "Ana\rMaria"}), []string{"parameters.atendente parameter_invalid"}},
		{"tab", named, okNamed(map[string]string{"atendente": "Ana\tMaria"}), []string{"parameters.atendente parameter_invalid"}},
		{"five spaces", named, okNamed(map[string]string{"atendente": "Ana     Maria"}), []string{"parameters.atendente parameter_invalid"}},
		{"control character", named, okNamed(map[string]string{"atendente": "Ana\x07"}), []string{"parameters.atendente parameter_invalid"}},
		{"C1 control character", named, okNamed(map[string]string{"atendente": "Ana\u0085"}), []string{"parameters.atendente parameter_invalid"}},
		{"newline in url suffix", named, okNamed(map[string]string{"button.1": "abc\n"}), []string{"parameters.button.1 parameter_invalid"}},
		{"invalid UTF-8", named, okNamed(map[string]string{"atendente": "Ana\xff"}), []string{"parameters.atendente parameter_invalid"}},
		{"header value too long", named, okNamed(map[string]string{"nome": long(61)}), []string{"parameters.nome parameter_invalid"}},
		{"body value too long", named, okNamed(map[string]string{"pedido": long(1025)}), []string{"parameters.pedido parameter_invalid"}},
		{"url value too long", named, okNamed(map[string]string{"button.1": long(2001)}), []string{"parameters.button.1 parameter_invalid"}},
		{"rendered body too long", named, okNamed(map[string]string{"atendente": long(500), "pedido": long(500)}), []string{"parameters parameter_invalid"}},
		{"positional header value too long", positional, Params{Named: map[string]string{"header.1": long(61), "1": "Ana", "2": "R$ 50", "button.0": "abc"}}, []string{"parameters.header.1 parameter_invalid"}},
		{"every problem of one value", named, okNamed(map[string]string{"atendente": "a\nb\tc     d\x01"}), []string{
			"parameters.atendente parameter_invalid", "parameters.atendente parameter_invalid",
			"parameters.atendente parameter_invalid", "parameters.atendente parameter_invalid",
		}},
		{"everything at once, sorted", named, Params{Named: map[string]string{"atendente": "\t", "pedido": "a\nb", "extra": "x"}}, []string{
			"parameters.nome parameter_missing",
			"parameters.atendente parameter_invalid",
			"parameters.pedido parameter_invalid",
			"parameters.button.1 parameter_missing",
			"parameters parameter_unknown",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := tt.def.Check(tt.p)
			if tt.want == nil {
				require.Nil(t, errs)
				return
			}
			require.Equal(t, tt.want, pairs(errs))
			for _, e := range errs {
				require.NotEmpty(t, e.Message)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	t.Parallel()
	errs := namedDef().Check(Params{Named: map[string]string{"atendente": "Ana\nMaria", "nme": "x"}})
	msgs := map[string]string{}
	for _, e := range errs {
		msgs[e.Field+" "+e.Code] += e.Message
	}
	require.Contains(t, msgs["parameters.nome parameter_missing"], "[NOME]")
	require.Contains(t, msgs["parameters.atendente parameter_invalid"], "line break")
	require.Contains(t, msgs["parameters parameter_unknown"], `"nme"`)
}

func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		def  Definition
		p    Params
		want Rendered
	}{
		{"named, all given", namedDef(), Params{Named: map[string]string{"nome": "João", "atendente": "Ana", "pedido": "123", "button.1": "abc"}}, Rendered{
			Header: "Pedido de João",
			Body:   "Olá João, aqui é Ana. Seu pedido 123 saiu; obrigado, João!",
			Footer: "Loja Exemplo",
			Buttons: []RenderedButton{
				{Type: "QUICK_REPLY", Text: "Falar com atendente"},
				{Type: "URL", Text: "Rastrear", URL: "https://loja.example/rastreio/abc"},
			},
			Text: "Pedido de João\n\nOlá João, aqui é Ana. Seu pedido 123 saiu; obrigado, João!\n\nLoja Exemplo",
		}},
		{"named, missing and blank show labels", namedDef(), Params{Named: map[string]string{"atendente": " "}}, Rendered{
			Header: "Pedido de [NOME]",
			Body:   "Olá [NOME], aqui é [ATENDENTE]. Seu pedido [PEDIDO] saiu; obrigado, [NOME]!",
			Footer: "Loja Exemplo",
			Buttons: []RenderedButton{
				{Type: "QUICK_REPLY", Text: "Falar com atendente"},
				{Type: "URL", Text: "Rastrear", URL: "https://loja.example/rastreio/[1]"},
			},
			Text: "Pedido de [NOME]\n\nOlá [NOME], aqui é [ATENDENTE]. Seu pedido [PEDIDO] saiu; obrigado, [NOME]!\n\nLoja Exemplo",
		}},
		{"positional", positionalDef(), Params{Named: map[string]string{"header.1": "123", "1": "Ana", "2": "R$ 50"}}, Rendered{
			Header: "Pedido 123",
			Body:   "Olá Ana, o total é R$ 50. Até logo, Ana.",
			Footer: "Responda SAIR para não receber",
			Buttons: []RenderedButton{
				{Type: "URL", Text: "Ver pedido", URL: "https://loja.example/p/[1]"},
				{Type: "PHONE_NUMBER", Text: "Ligar", PhoneNumber: "+5511987654321"},
			},
			Text: "Pedido 123\n\nOlá Ana, o total é R$ 50. Até logo, Ana.\n\nResponda SAIR para não receber",
		}},
		{"body only, design example", bodyOnly(ParameterFormatNamed, "Olá {{nome}}, aqui é {{atendente}}."),
			Params{Named: map[string]string{"nome": "João"}}, Rendered{
				Body:    "Olá João, aqui é [ATENDENTE].",
				Buttons: []RenderedButton{},
				Text:    "Olá João, aqui é [ATENDENTE].",
			}},
		{"values are not re-expanded, invalid placeholders stay", bodyOnly("", "{{1}} {{nome}} {{2}}"),
			Params{Positional: []string{"{{2}}", "b"}}, Rendered{
				Body:    "{{2}} {{nome}} b",
				Buttons: []RenderedButton{},
				Text:    "{{2}} {{nome}} b",
			}},
		{"media header renders empty", Definition{Components: []Component{
			{Type: "HEADER", Format: "IMAGE"}, {Type: "BODY", Text: "Oi {{1}}"}, {Type: "FOOTER", Text: "rodapé"},
		}}, Params{Positional: []string{"Ana"}}, Rendered{
			Body: "Oi Ana", Footer: "rodapé", Buttons: []RenderedButton{}, Text: "Oi Ana\n\nrodapé",
		}},
		{"no components", Definition{}, Params{}, Rendered{Buttons: []RenderedButton{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.def.Render(tt.p))
		})
	}
}

func TestDisplayLabel(t *testing.T) {
	t.Parallel()
	d := namedDef()
	require.Equal(t, "[NOME]", d.DisplayLabel("nome"))
	require.Equal(t, "[PRIMEIRO_NOME]", d.DisplayLabel("primeiro_nome"))
	require.Equal(t, "[1]", d.DisplayLabel("button.1"))
	require.Equal(t, "[1]", d.DisplayLabel("1"))
	p := positionalDef()
	require.Equal(t, "[1]", p.DisplayLabel("header.1"))
	require.Equal(t, "[2]", p.DisplayLabel("2"))
	require.Equal(t, "[1]", p.DisplayLabel("button.0"))
}

func TestSendComponentsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		def  Definition
		p    Params
		want string
	}{
		{"positional, as in the Cloud API example", positionalDef(),
			Params{Named: map[string]string{"header.1": "Pedido 123", "1": "Ana", "2": "R$ 50", "button.0": "abc123"}},
			`[{"type":"header","parameters":[{"type":"text","text":"Pedido 123"}]},` +
				`{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"R$ 50"}]},` +
				`{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"abc123"}]}]`},
		{"named", namedDef(),
			Params{Named: map[string]string{"nome": "João", "atendente": "Ana", "pedido": "123", "button.1": "abc123"}},
			`[{"type":"header","parameters":[{"type":"text","text":"João","parameter_name":"nome"}]},` +
				`{"type":"body","parameters":[{"type":"text","text":"João","parameter_name":"nome"},` +
				`{"type":"text","text":"Ana","parameter_name":"atendente"},{"type":"text","text":"123","parameter_name":"pedido"}]},` +
				`{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"abc123"}]}]`},
		{"named body only", bodyOnly(ParameterFormatNamed, "Olá {{nome}}, aqui é {{atendente}}."),
			Params{Named: map[string]string{"atendente": "Ana", "nome": "João"}},
			`[{"type":"body","parameters":[{"type":"text","text":"João","parameter_name":"nome"},` +
				`{"type":"text","text":"Ana","parameter_name":"atendente"}]}]`},
		{"positional in placeholder order", bodyOnly("", "Total {{2}} para {{1}}, {{1}}."),
			Params{Positional: []string{"Ana", "R$ 50"}},
			`[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"R$ 50"}]}]`},
		{"positional object", bodyOnly("", "Olá {{1}}"),
			Params{Named: map[string]string{"1": "Ana"}},
			`[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]`},
		{"no variables", bodyOnly("", "Olá!"), Params{}, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs, err := tt.def.SendComponents(tt.p)
			require.NoError(t, err)
			got, err := json.Marshal(cs)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestSendComponentsErrors(t *testing.T) {
	t.Parallel()
	_, err := namedDef().SendComponents(Params{Named: map[string]string{"nome": "João"}})
	require.Error(t, err)
	e, ok := apperr.As(err)
	require.True(t, ok)
	require.Equal(t, apperr.KindInvalid, e.Kind)
	require.Equal(t, []string{
		"parameters.atendente parameter_missing", "parameters.pedido parameter_missing", "parameters.button.1 parameter_missing",
	}, pairs(e.Fields))

	unsupported := map[string]Definition{
		"image header":    {Components: []Component{{Type: "HEADER", Format: "IMAGE"}, {Type: "BODY", Text: "Oi"}}},
		"location header": {Components: []Component{{Type: "HEADER", Format: "LOCATION"}, {Type: "BODY", Text: "Oi"}}},
		"copy code button": {Components: []Component{{Type: "BODY", Text: "Oi"},
			{Type: "BUTTONS", Buttons: []Button{{Type: "COPY_CODE", Text: "Copiar"}}}}},
		"otp button": {Category: CategoryAuthentication, Components: []Component{{Type: "BODY", Text: "{{1}} é seu código"},
			{Type: "BUTTONS", Buttons: []Button{{Type: "OTP", Text: "Copiar"}}}}},
	}
	for name, d := range unsupported {
		p := Params{}
		if len(d.Variables()) > 0 {
			p.Positional = []string{"123456"}
		}
		_, err := d.SendComponents(p)
		require.ErrorIs(t, err, ErrUnsupported, name)
		require.True(t, apperr.IsKind(err, apperr.KindInvalid), name)
	}
}

// TestParseParamsThenCheck runs a request's parameters through both steps, as the start does.
func TestParseParamsThenCheck(t *testing.T) {
	t.Parallel()
	d := bodyOnly(ParameterFormatNamed, "Olá {{nome}}, aqui é {{atendente}}.")
	p, errs := ParseParams(json.RawMessage(`{"nome":"João","atendente":"Ana"}`), d.ParameterFormat)
	require.Nil(t, errs)
	require.Nil(t, d.Check(p))
	require.Equal(t, "Olá João, aqui é Ana.", d.Render(p).Text)

	pd := bodyOnly("", "Olá {{1}}, aqui é {{2}}.")
	p, errs = ParseParams(json.RawMessage(`["João","Ana"]`), pd.ParameterFormat)
	require.Nil(t, errs)
	require.Nil(t, pd.Check(p))
	require.Equal(t, "Olá João, aqui é Ana.", pd.Render(p).Text)
}
