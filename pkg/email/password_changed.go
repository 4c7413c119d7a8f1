package email

import (
	"fmt"

	"github.com/usermgmt/ums/pkg/notices"
)

// The notice says when the password changed and what to do if it was not
// the reader: it is how someone learns that another person took over their
// account, so it carries no link to click (a phisher's favourite), only what to do.
var (
	passwordChangedHTML = newHTML("password_changed", `{{template "h1" .Subject}}
<p style="margin:0 0 16px;">{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}</p>
<p style="margin:0 0 16px;">The password of your {{.Product}} account was changed on {{.At}}.</p>
<p style="margin:0 0 16px;">If you changed it, you need not do anything.</p>
<p style="margin:0;"><strong>If you did not</strong>, someone else may be using your account: tell your administrator at once, so that they can reset your password.</p>`)

	passwordChangedText = newText("password_changed", `{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}

The password of your {{.Product}} account was changed on {{.At}}.

If you changed it, you need not do anything.

If you did not, someone else may be using your account: tell your administrator at once, so that they can reset your password.
`)
)

type passwordChangedData struct {
	frame
	Name string
	At   string
}

func renderPasswordChanged(n notices.PasswordChanged, product string) (Message, error) {
	if n.At.IsZero() {
		return Message{}, fmt.Errorf("email: the password change has no time")
	}
	const subject = "Your password was changed"
	d := passwordChangedData{
		frame: frame{
			Product: product,
			Subject: subject,
			Why:     "You receive this email because the password of your " + product + " account changed.",
		},
		Name: oneLine(n.Name),
		At:   formatTime(n.At),
	}
	return render(n.To, subject, passwordChangedHTML, passwordChangedText, d)
}
