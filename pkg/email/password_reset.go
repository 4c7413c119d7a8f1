package email

import (
	"fmt"

	"github.com/usermgmt/ums/pkg/notices"
)

// The reset mail says who asked for it (the user, or an administrator for
// them), until when the link works, and that ignoring it is safe: a reset
// nobody asked for is the usual sign of someone probing an account.
var (
	passwordResetHTML = newHTML("password_reset", `{{template "h1" .Subject}}
<p style="margin:0 0 16px;">{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}</p>
{{- if .ByAdmin}}
<p style="margin:0 0 16px;">An administrator of {{.Product}} sent you this link so that you can choose a new password for your account.</p>
{{- else}}
<p style="margin:0 0 16px;">Someone, probably you, asked to reset the password of your {{.Product}} account.</p>
{{- end}}
{{template "button" button .Link "Choose a new password"}}
<p style="margin:0 0 16px;">The link expires on {{.Expires}}.</p>
<p style="margin:0;color:#3f3f46;">If you did not ask for this, ignore this email: your password stays as it is.</p>`)

	passwordResetText = newText("password_reset", `{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}

{{if .ByAdmin}}An administrator of {{.Product}} sent you this link so that you can choose a new password for your account.{{else}}Someone, probably you, asked to reset the password of your {{.Product}} account.{{end}}

Choose a new password here:
{{.Link}}

The link expires on {{.Expires}}.

If you did not ask for this, ignore this email: your password stays as it is.
`)
)

type passwordResetData struct {
	frame
	Name    string
	ByAdmin bool
	Link    string
	Expires string
}

func renderPasswordReset(n notices.PasswordReset, product string) (Message, error) {
	if err := checkLink("password reset", n.Link); err != nil {
		return Message{}, err
	}
	if n.ExpiresAt.IsZero() {
		return Message{}, fmt.Errorf("email: the password reset has no expiry")
	}
	const subject = "Reset your password"
	d := passwordResetData{
		frame: frame{
			Product: product,
			Subject: subject,
			Why:     "You receive this email because a password reset was asked for your " + product + " account.",
		},
		Name:    oneLine(n.Name),
		ByAdmin: n.ByAdmin,
		Link:    n.Link,
		Expires: formatTime(n.ExpiresAt),
	}
	return render(n.To, subject, passwordResetHTML, passwordResetText, d)
}
