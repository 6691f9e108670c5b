package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/atendimento/atendimento/pkg/atendimento"
)

func main() {
	ctx := context.Background()
	c := must(atendimento.New(os.Getenv("ATENDIMENTO_URL"), os.Getenv("ATENDIMENTO_API_KEY")))
	channel := (*must(c.ListChannels(ctx, nil)).Items)[0]
	team := (*must(c.ListTeams(ctx, &atendimento.ListTeamsParams{ChannelId: atendimento.Ptr(channel.Id.String())})).Items)[0]
	tpl := (*must(c.ListTemplates(ctx, &atendimento.ListTemplatesParams{Q: atendimento.Ptr("boas_vindas")})).Items)[0]
	conv, err := c.StartConversation(ctx, nil, atendimento.StartRequest{
		Contact:   &atendimento.ContactRequest{Phone: atendimento.Ptr("21 99876-1234"), Name: atendimento.Ptr("Maria")},
		ChannelId: channel.Id, TeamId: team.Id, TemplateId: tpl.Id,
		SendType:   atendimento.Ptr(atendimento.StartRequestSendTypeNow),
		Parameters: map[string]string{"nome": "Maria", "atendente": "Ana"},
	})
	if p, ok := atendimento.AsProblem(err); ok && p.Code == "conversation_already_open" {
		fmt.Println("already open:", p.ExistingID)
		return
	}
	must(conv, err)
	fmt.Println(conv.Id, *conv.Status) // 0197… waiting
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err) // e.g. atendimento: 422 validation_failed: … (parameters.nome: parameter_missing)
	}
	return v
}
