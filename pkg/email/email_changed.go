package email

import (
	"fmt"

	"github.com/usermgmt/ums/pkg/notices"
)

// The notice goes to the old address, the only one the account's owner is
// sure to still read if someone else made the change; it names the new
// address so that they can tell at a glance whether it is theirs.
var (
	emailChangedHTML = newHTML("email_changed", `{{template "h1" .Subject}}
<p style="margin:0 0 16px;">{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}</p>
<p style="margin:0 0 16px;">The email address of your {{.Product}} account was changed on {{.At}} to <strong>{{.NewEmail}}</strong>. From now on, mail about your account goes there, not to this address.</p>
<p style="margin:0 0 16px;">If you made this change, you need not do anything.</p>
<p style="margin:0;"><strong>If you did not</strong>, someone else may be using your account: contact your administrator at once, so that they can give your account back its address.</p>`)

	emailChangedText = newText("email_changed", `{{if .Name}}Hello {{.Name}},{{else}}Hello,{{end}}

The email address of your {{.Product}} account was changed on {{.At}} to {{.NewEmail}}. From now on, mail about your account goes there, not to this address.

If you made this change, you need not do anything.

If you did not, someone else may be using your account: contact your administrator at once, so that they can give your account back its address.
`)
)

type emailChangedData struct {
	frame
	Name     string
	NewEmail string
	At       string
}

func renderEmailChanged(n notices.EmailChanged, product string) (Message, error) {
	if n.At.IsZero() {
		return Message{}, fmt.Errorf("email: the email change has no time")
	}
	const subject = "Your email address was changed"
	d := emailChangedData{
		frame: frame{
			Product: product,
			Subject: subject,
			Why:     "You receive this email because it was the address of your " + product + " account.",
		},
		Name:     oneLine(n.Name),
		NewEmail: oneLine(n.NewEmail),
		At:       formatTime(n.At),
	}
	return render(n.To, subject, emailChangedHTML, emailChangedText, d)
}
