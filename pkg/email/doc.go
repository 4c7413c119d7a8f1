// Package email turns the service's notices into mail and sends it through
// Amazon SES v2: one file per message (invitation.go, password_reset.go,
// password_changed.go, email_changed.go) renders a notice into a Message with
// a subject, an HTML part (every value escaped with html.EscapeString) and a
// text part, written with a strings.Builder into the layout of message.go, not
// with html/template or text/template, whose calls of methods by name would
// make the linker keep every exported method of every type in the binary;
// headers.go refuses anything that could inject a header; ses.go is the
// notices.Sender that validates, sends and retries throttling within the
// caller's deadline; client.go builds the SES client without the SDK's
// configuration loader, as pkg/dynamo does for DynamoDB.
//
// It is the only importer of the SES SDK. It may import the standard
// library, the AWS SDK, pkg/apperr, pkg/config and pkg/notices.
package email
