package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/channel"
	"github.com/atendimento/atendimento/internal/contact"
	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/team"
	"github.com/atendimento/atendimento/internal/template"
)

// Seeded describes what Bootstrap or Demo created, for printing.
type Seeded struct {
	AccountID     string
	AdminEmail    string
	AdminPassword string
	APIKey        string
	ChannelID     string
	TeamIDs       []string
	TemplateIDs   map[string]string
	ContactID     string
}

// Bootstrap creates the first account from the BOOTSTRAP_* variables when the database is
// empty. Two instances starting together create it once: the check and the writes share one
// transaction that holds the database's global lock.
func (a *App) Bootstrap(ctx context.Context) (*Seeded, error) {
	return a.firstAccount(ctx, func(ctx context.Context) (*Seeded, error) {
		acc, err := a.Accounts.CreateAccount(ctx, a.Config.BootstrapAccountName, "BR")
		if err != nil {
			return nil, err
		}
		ctx = store.WithAccount(ctx, acc.ID)
		out := &Seeded{AccountID: acc.ID}
		if a.Config.BootstrapAdminEmail != "" {
			role := account.RoleAdmin
			name := "Admin"
			if _, err := a.Accounts.CreateUser(ctx, account.UserInput{Name: &name, Email: &a.Config.BootstrapAdminEmail,
				Password: &a.Config.BootstrapAdminPassword, Role: &role}); err != nil {
				return nil, fmt.Errorf("bootstrap admin: %w", err)
			}
			out.AdminEmail = a.Config.BootstrapAdminEmail
		}
		if a.Config.BootstrapAPIKey != "" {
			if _, err := a.Accounts.CreateAPIKeyWithSecret(ctx, "bootstrap", account.RoleAdmin, a.Config.BootstrapAPIKey); err != nil {
				return nil, fmt.Errorf("bootstrap api key: %w", err)
			}
			out.APIKey = a.Config.BootstrapAPIKey
		}
		return out, nil
	})
}

// DemoAdminEmail is the login of the demo account's admin.
const DemoAdminEmail = "admin@demo.atendimento.dev"

// Demo seeds a demo account when the database is empty: an admin and an agent, a sandbox
// channel, two teams and pt-BR templates of each category. It returns nil when the database
// already had data.
func (a *App) Demo(ctx context.Context) (*Seeded, error) {
	return a.firstAccount(ctx, func(ctx context.Context) (*Seeded, error) { return a.seedDemo(ctx) })
}

func (a *App) firstAccount(ctx context.Context, fn func(ctx context.Context) (*Seeded, error)) (*Seeded, error) {
	var out *Seeded
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.DB.LockGlobal(ctx); err != nil {
			return err
		}
		empty, err := a.Accounts.Empty(ctx)
		if err != nil || !empty {
			return err
		}
		out, err = fn(ctx)
		return err
	})
	return out, err
}

func (a *App) seedDemo(ctx context.Context) (*Seeded, error) {
	acc, err := a.Accounts.CreateAccount(ctx, "Loja Demo", "BR")
	if err != nil {
		return nil, err
	}
	ctx = store.WithAccount(ctx, acc.ID)
	out := &Seeded{AccountID: acc.ID, AdminEmail: DemoAdminEmail, AdminPassword: RandomPassword(), TemplateIDs: map[string]string{}}
	s := func(v string) *string { return &v }
	admin, agent := account.RoleAdmin, account.RoleAgent
	adminUser, err := a.Accounts.CreateUser(ctx, account.UserInput{Name: s("Ana Souza"), Email: &out.AdminEmail, Password: &out.AdminPassword, Role: &admin})
	if err != nil {
		return nil, err
	}
	agentUser, err := a.Accounts.CreateUser(ctx, account.UserInput{Name: s("Bruno Lima"), Email: s("agente@demo.atendimento.dev"), Password: s(RandomPassword()), Role: &agent})
	if err != nil {
		return nil, err
	}
	_, key, err := a.Accounts.CreateAPIKey(ctx, "demo", account.RoleAdmin, adminUser.ID)
	if err != nil {
		return nil, err
	}
	out.APIKey = key
	ch, err := a.Channels.Create(ctx, channel.Input{Name: s("WhatsApp Loja Demo (sandbox)"), Provider: s(channel.ProviderSandbox), PhoneNumber: s("+55 11 4000-1234")})
	if err != nil {
		return nil, fmt.Errorf("demo channel: %w", err)
	}
	out.ChannelID = ch.ID
	chans := []string{ch.ID}
	for _, t := range []struct {
		name    string
		members []string
	}{{"Vendas", []string{adminUser.ID, agentUser.ID}}, {"Suporte", []string{adminUser.ID}}} {
		members := t.members
		tm, err := a.Teams.Create(ctx, team.Input{Name: s(t.name), ChannelIDs: &chans, MemberIDs: &members})
		if err != nil {
			return nil, fmt.Errorf("demo team: %w", err)
		}
		out.TeamIDs = append(out.TeamIDs, tm.ID)
	}
	if _, err := a.Channels.Update(ctx, ch.ID, channel.Input{DefaultTeamID: &out.TeamIDs[1]}); err != nil {
		return nil, err
	}
	for _, t := range demoTemplates {
		comps, _ := json.Marshal(t.components)
		tp, err := a.Templates.Create(ctx, template.Input{ChannelID: &ch.ID, Name: s(t.name), Language: s("pt_BR"), Category: s(t.category),
			Status: s(t.status), ParameterFormat: s(t.format), Components: comps})
		if err != nil {
			return nil, fmt.Errorf("demo template %s: %w", t.name, err)
		}
		out.TemplateIDs[t.name] = tp.ID
	}
	c, err := a.Contacts.Create(ctx, contact.Input{Name: s("João da Silva"), Phone: s("11 98765-4321"), Email: s("joao@example.com")})
	if err != nil {
		return nil, err
	}
	out.ContactID = c.ID
	if _, err := a.Contacts.Create(ctx, contact.Input{Name: s("Maria Conceição"), Phone: s("(21) 99876-5432")}); err != nil {
		return nil, err
	}
	return out, nil
}

type demoTemplate struct {
	name, category, status, format string
	components                     []map[string]any
}

// demoTemplates carry Meta's example values (the "example" of each component, as Meta's
// message_templates API returns them), which the SPA shows as the placeholders of the fields.
var demoTemplates = []demoTemplate{
	{"boas_vindas", "MARKETING", "APPROVED", "NAMED", []map[string]any{
		{"type": "BODY", "text": "Olá {{nome}}, aqui é {{atendente}} da Loja Demo. Podemos conversar sobre o seu atendimento?",
			"example": map[string]any{"body_text_named_params": []map[string]string{
				{"param_name": "nome", "example": "Maria"}, {"param_name": "atendente", "example": "Ana"}}}},
		{"type": "FOOTER", "text": "Responda SAIR para não receber mais mensagens"}}},
	{"oferta_semana", "MARKETING", "APPROVED", "POSITIONAL", []map[string]any{
		{"type": "HEADER", "format": "TEXT", "text": "Oferta da semana"},
		{"type": "BODY", "text": "Oi {{1}}! Esta semana o {{2}} está com {{3}} de desconto. Quer saber mais?",
			"example": map[string]any{"body_text": [][]string{{"Maria", "tênis de corrida", "20%"}}}}}},
	{"atualizacao_pedido", "UTILITY", "APPROVED", "NAMED", []map[string]any{
		{"type": "BODY", "text": "Olá {{nome}}, o seu pedido {{pedido}} foi atualizado: {{situacao}}.",
			"example": map[string]any{"body_text_named_params": []map[string]string{
				{"param_name": "nome", "example": "Maria"}, {"param_name": "pedido", "example": "A-1234"},
				{"param_name": "situacao", "example": "saiu para entrega"}}}},
		{"type": "BUTTONS", "buttons": []map[string]any{{"type": "URL", "text": "Acompanhar pedido", "url": "https://loja.example.com/pedidos/{{1}}",
			"example": []string{"https://loja.example.com/pedidos/A-1234"}}}}}},
	{"lembrete_pagamento", "UTILITY", "APPROVED", "POSITIONAL", []map[string]any{
		{"type": "BODY", "text": "Olá {{1}}, lembramos que a fatura de {{2}} vence em {{3}}.",
			"example": map[string]any{"body_text": [][]string{{"Maria", "R$ 129,90", "10/12"}}}}}},
	{"codigo_verificacao", "AUTHENTICATION", "APPROVED", "POSITIONAL", []map[string]any{
		{"type": "BODY", "text": "{{1}} é o seu código de verificação. Não o compartilhe com ninguém.",
			"example": map[string]any{"body_text": [][]string{{"482913"}}}}}},
	{"pesquisa_satisfacao", "MARKETING", "PENDING", "NAMED", []map[string]any{
		{"type": "BODY", "text": "Olá {{nome}}, de 0 a 10, quanto você recomendaria a Loja Demo?"}}},
	// A POSITIONAL template with a header variable and a URL button: its keys are "header.1",
	// "1", "2" and "button.0".
	{"protocolo_atendimento", "UTILITY", "APPROVED", "POSITIONAL", []map[string]any{
		{"type": "HEADER", "format": "TEXT", "text": "Protocolo {{1}}", "example": map[string]any{"header_text": []string{"2024-000123"}}},
		{"type": "BODY", "text": "Olá {{1}}, registramos o seu atendimento sobre {{2}}. Acompanhe pelo link abaixo.",
			"example": map[string]any{"body_text": [][]string{{"Maria", "troca de produto"}}}},
		{"type": "BUTTONS", "buttons": []map[string]any{{"type": "URL", "text": "Acompanhar atendimento", "url": "https://loja.example.com/protocolos/{{1}}",
			"example": []string{"https://loja.example.com/protocolos/2024-000123"}}}}}},
}

// RandomPassword returns a 16-character password for generated accounts.
func RandomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}
