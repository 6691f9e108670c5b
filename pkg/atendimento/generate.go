package atendimento

// The client is generated from the contract; `make client` runs these, and `make docs-check`
// fails when client.gen.go or methods.gen.go differ from what openapi.yaml gives.
//go:generate go tool oapi-codegen -config gen/client.yaml ../../openapi.yaml
//go:generate go tool oapi-codegen -config gen/methods.yaml ../../openapi.yaml
