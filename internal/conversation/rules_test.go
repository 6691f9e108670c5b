package conversation

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/template"
)

func TestDecidePost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status Status
		window bool
		kind   postKind
		want   postDecision
	}{
		{"text while waiting is queued", StatusWaiting, false, postText, postDecision{status: MsgQueued}},
		{"text while scheduled is queued", StatusScheduled, false, postText, postDecision{status: MsgQueued}},
		{"text while waiting stays queued with the window open", StatusWaiting, true, postText, postDecision{status: MsgQueued}},
		{"text inside the window goes out", StatusActive, true, postText, postDecision{status: MsgPending}},
		{"text after the window needs a template", StatusActive, false, postText, postDecision{err: errTemplateRequired}},
		{"template inside the window goes out", StatusActive, true, postTemplate, postDecision{status: MsgPending}},
		{"template after the window re-engages", StatusActive, false, postTemplate, postDecision{status: MsgPending, reengage: true}},
		{"template while waiting goes out without re-engaging", StatusWaiting, false, postTemplate, postDecision{status: MsgPending}},
		{"template while scheduled goes out", StatusScheduled, false, postTemplate, postDecision{status: MsgPending}},
		{"closed takes no text", StatusClosed, true, postText, postDecision{err: errClosed}},
		{"closed takes no template", StatusClosed, false, postTemplate, postDecision{err: errClosed}},
		{"failed takes nothing", StatusFailed, true, postText, postDecision{err: errClosed}},
		{"cancelled takes nothing", StatusCancelled, false, postTemplate, postDecision{err: errClosed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, decidePost(tt.status, tt.window, tt.kind))
		})
	}
}

func TestDecidePostErrorsKeepTheirContract(t *testing.T) {
	t.Parallel()
	d := decidePost(StatusActive, false, postText)
	require.Equal(t, apperr.KindInvalid, d.err.Kind)
	require.Equal(t, []string{"template_id:template_required"}, apperr.Fields(d.err.Fields).Codes())
	d = decidePost(StatusClosed, true, postText)
	require.Equal(t, apperr.KindConflict, d.err.Kind)
	require.Equal(t, "conversation_closed", d.err.Code)
}

func TestPostKind(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		in   PostInput
		want postKind
	}{
		{"nothing", PostInput{}, postEmpty},
		{"blank text", PostInput{Text: s("  \n")}, postEmpty},
		{"text", PostInput{Text: s("oi")}, postText},
		{"template", PostInput{TemplateID: s("t")}, postTemplate},
		{"template wins over text", PostInput{TemplateID: s("t"), Text: s("oi")}, postTemplate},
		{"empty template id is text", PostInput{TemplateID: s(""), Text: s("oi")}, postText},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.in.kind(), tt.name)
	}
}

func TestCheckSchedule(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	s := func(v string) *string { return &v }
	at := func(d time.Duration) *string { return s(now.Add(d).Format(time.RFC3339Nano)) }
	tests := []struct {
		name     string
		sendType *string
		at       *string
		want     []string
		wantAt   *time.Time
	}{
		{"default is now", nil, nil, []string{}, nil},
		{"now", s(SendNow), s(""), []string{}, nil},
		{"now with a time", s(SendNow), at(time.Hour), []string{"scheduled_at:scheduled_at_invalid"}, nil},
		{"unknown send type", s("later"), nil, []string{"send_type:send_type_invalid"}, nil},
		{"scheduled without a time", s(SendScheduled), nil, []string{"scheduled_at:scheduled_at_invalid"}, nil},
		{"scheduled with a bad time", s(SendScheduled), s("amanhã"), []string{"scheduled_at:scheduled_at_invalid"}, nil},
		{"scheduled now is past", s(SendScheduled), at(0), []string{"scheduled_at:scheduled_at_invalid"}, nil},
		{"scheduled in the past", s(SendScheduled), at(-time.Minute), []string{"scheduled_at:scheduled_at_invalid"}, nil},
		{"scheduled too far", s(SendScheduled), at(MaxScheduleAhead + time.Second), []string{"scheduled_at:scheduled_at_invalid"}, nil},
		{"scheduled at the limit", s(SendScheduled), at(MaxScheduleAhead), []string{}, ptr(now.Add(MaxScheduleAhead))},
		{"scheduled, to the microsecond in UTC", s(SendScheduled), s("2026-03-10T10:00:00.123456789-03:00"), []string{},
			ptr(time.Date(2026, 3, 10, 13, 0, 0, 123456000, time.UTC))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, f := checkSchedule(tt.sendType, tt.at, now)
			require.Equal(t, tt.want, f.Codes())
			require.Equal(t, tt.wantAt, got)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestTextFields(t *testing.T) {
	t.Parallel()
	require.Empty(t, textFields(strings.Repeat("á", MaxText)), "the limit counts characters, not bytes")
	require.Equal(t, []string{"text:text_invalid"}, textFields(strings.Repeat("a", MaxText+1)).Codes())
}

func TestTemplateFields(t *testing.T) {
	t.Parallel()
	named := template.Template{ID: "t1", ChannelID: "ch1", Status: template.StatusApproved, Definition: template.Definition{
		Name: "boas_vindas", Language: "pt_BR", Category: template.CategoryUtility, ParameterFormat: template.ParameterFormatNamed,
		Components: []template.Component{{Type: "BODY", Text: "Olá {{nome}}, aqui é {{atendente}}."}}}}
	paused := named
	paused.Status = template.StatusPaused
	tests := []struct {
		name    string
		tpl     template.Template
		channel string
		params  string
		want    []string
	}{
		{"all good", named, "ch1", `{"nome":"João","atendente":"Ana"}`, []string{}},
		{"no channel known yet", named, "", `{"nome":"João","atendente":"Ana"}`, []string{}},
		{"every failure together", paused, "ch2", `{"nome":"João","extra":"x"}`, []string{
			"template_id:template_not_approved", "template_id:template_channel_mismatch",
			"parameters.atendente:parameter_missing", "parameters:parameter_unknown"}},
		{"no parameters", named, "ch1", ``, []string{"parameters.nome:parameter_missing", "parameters.atendente:parameter_missing"}},
		{"a newline in a body parameter", named, "ch1", `{"nome":"João\nSilva","atendente":"Ana"}`, []string{"parameters.nome:parameter_invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, f := templateFields(tt.tpl, tt.channel, json.RawMessage(tt.params))
			require.Equal(t, tt.want, f.Codes())
		})
	}
}

func TestStatusSets(t *testing.T) {
	t.Parallel()
	for _, st := range openStatuses {
		require.True(t, st.Open(), st)
	}
	for _, st := range []Status{StatusClosed, StatusFailed, StatusCancelled} {
		require.False(t, st.Open(), st)
		require.True(t, st.Known(), st)
	}
	require.False(t, Status("open").Known())
}

func TestOpening(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	later := now.Add(2 * time.Hour)
	window := now.Add(20 * time.Hour)
	tpl := &template.Template{ID: "t1", ChannelID: "ch1", Status: template.StatusApproved, Definition: template.Definition{
		Name: "boas_vindas", Language: "pt_BR", Category: template.CategoryUtility, ParameterFormat: template.ParameterFormatNamed,
		Components: []template.Component{{Type: "BODY", Text: "Olá {{nome}}"}}}}
	params := template.Params{Named: map[string]string{"nome": "Maria"}}
	tests := []struct {
		name      string
		p         plan
		contactID string
		conv      Status
		msg       MessageStatus
		due       time.Time
		window    *time.Time
		waiting   bool
		opensWith string
	}{
		{"a template now waits for the reply", plan{contactID: "c1", tpl: tpl, params: params}, "c1", StatusWaiting, MsgPending, now, nil, true, "template"},
		{"a scheduled template is scheduled", plan{contactID: "c1", tpl: tpl, params: params, scheduledAt: &later}, "c1", StatusScheduled, MsgScheduled, later, nil, false, "template"},
		{"text inside the window is active and keeps it", plan{contactID: "c1", text: "Oi", window: &window}, "c1", StatusActive, MsgPending, now, &window, false, "text"},
		{"a contact created just now has no window", plan{newContact: &contact.Input{}, tpl: tpl, params: params, window: &window}, "c2", StatusWaiting, MsgPending, now, nil, true, "template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv, msg, err := tt.p.opening("acc", tt.contactID, nil, now)
			require.NoError(t, err)
			require.Equal(t, tt.conv, conv.Status)
			require.Equal(t, tt.msg, msg.Status)
			require.Equal(t, tt.due, *msg.DueAt)
			require.Equal(t, tt.window, conv.WindowExpiresAt)
			require.Equal(t, tt.waiting, conv.WaitingSince != nil)
			require.Equal(t, tt.opensWith, msg.Type)
			require.Equal(t, conv.ID, msg.ConversationID)
			require.EqualValues(t, 1, msg.Seq)
		})
	}
}
