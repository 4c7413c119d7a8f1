package email

import (
	"fmt"
	"html"
	"strings"

	"github.com/usermgmt/ums/pkg/notices"
)

// The notice says when the password changed and what to do if it was not
// the reader: it is how someone learns that another person took over their
// account, so it carries no link to click (a phisher's favourite), only what to do.
type passwordChangedData struct {
	frame
	name string
	at   string
}

func renderPasswordChanged(n notices.PasswordChanged, product string) (Message, error) {
	if n.At.IsZero() {
		return Message{}, fmt.Errorf("email: the password change has no time")
	}
	d := passwordChangedData{
		frame: frame{
			product: product,
			subject: "Your password was changed",
			why:     "You receive this email because the password of your " + product + " account changed.",
		},
		name: oneLine(n.Name),
		at:   formatTime(n.At),
	}
	return render(n.To, d.frame, d.writeHTML, d.writeText), nil
}

func (d passwordChangedData) writeHTML(b *strings.Builder) {
	writeH1(b, d.subject)
	b.WriteString("\n" + `<p style="margin:0 0 16px;">` + html.EscapeString(hello(d.name)) + "</p>\n" +
		`<p style="margin:0 0 16px;">The password of your ` + html.EscapeString(d.product) +
		" account was changed on " + html.EscapeString(d.at) + ".</p>\n" +
		`<p style="margin:0 0 16px;">If you changed it, you need not do anything.</p>` + "\n" +
		`<p style="margin:0;"><strong>If you did not</strong>, someone else may be using your account: tell your administrator at once, so that they can reset your password.</p>`)
}

func (d passwordChangedData) writeText(b *strings.Builder) {
	b.WriteString(hello(d.name) + "\n\n" +
		"The password of your " + d.product + " account was changed on " + d.at + ".\n\n" +
		"If you changed it, you need not do anything.\n\n" +
		"If you did not, someone else may be using your account: tell your administrator at once, so that they can reset your password.\n")
}
