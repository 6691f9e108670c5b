// Package atendimento is the Go client of the Atendimento API (WhatsApp customer service).
//
// Every route of the contract (openapi.yaml) is a method of [Client], generated from the contract
// by `make client`: JSON answers come back decoded, and any answer that is not a success is a
// [*Problem] carrying the API's stable code and the failing fields, so callers switch on codes:
//
//	c, err := atendimento.New("http://localhost:8080", os.Getenv("ATENDIMENTO_API_KEY"))
//	conv, err := c.StartConversation(ctx, nil, atendimento.StartRequest{...})
//	var p *atendimento.Problem
//	if errors.As(err, &p) && p.Code == "conversation_already_open" { ... p.ExistingID ... }
//
// Requests honour their context. Answers 429 and 503 are retried, waiting what Retry-After asks
// (bounded by [WithRetries]); so are 500, 502, 504 and network errors of requests that are safe
// to repeat (reads, and starts, which carry an Idempotency-Key). Every
// conversation start carries an Idempotency-Key (the caller's, or a generated one reused across
// the retries), so a retried start never opens a second conversation.
package atendimento
