// Package whatsapp speaks the WhatsApp Business Cloud API wire format: a Client that sends
// template and free-text messages and lists a WhatsApp Business Account's templates, the
// classification of Meta's errors into transient and permanent ones (with a backoff helper), and
// the parsing and verification of the webhooks Meta delivers.
//
// The package is provider-only: it knows Meta's JSON shapes and nothing about conversations,
// contacts or storage. Consumers declare the small interfaces they need (a dispatcher's Sender,
// for instance) and pass a *Client where one is wanted. Its base URL comes from server
// configuration, so tests point it at the fake Graph API in package whatsapptest.
package whatsapp
