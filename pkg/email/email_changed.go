package email

import (
	"fmt"
	"html"
	"strings"

	"github.com/usermgmt/ums/pkg/notices"
)

// The notice goes to the old address, the only one the account's owner is
// sure to still read if someone else made the change; it names the new
// address so that they can tell at a glance whether it is theirs.
type emailChangedData struct {
	frame
	name     string
	newEmail string
	at       string
}

func renderEmailChanged(n notices.EmailChanged, product string) (Message, error) {
	if n.At.IsZero() {
		return Message{}, fmt.Errorf("email: the email change has no time")
	}
	d := emailChangedData{
		frame: frame{
			product: product,
			subject: "Your email address was changed",
			why:     "You receive this email because it was the address of your " + product + " account.",
		},
		name:     oneLine(n.Name),
		newEmail: oneLine(n.NewEmail),
		at:       formatTime(n.At),
	}
	return render(n.To, d.frame, d.writeHTML, d.writeText), nil
}

func (d emailChangedData) writeHTML(b *strings.Builder) {
	writeH1(b, d.subject)
	b.WriteString("\n" + `<p style="margin:0 0 16px;">` + html.EscapeString(hello(d.name)) + "</p>\n" +
		`<p style="margin:0 0 16px;">The email address of your ` + html.EscapeString(d.product) +
		" account was changed on " + html.EscapeString(d.at) + " to <strong>" + html.EscapeString(d.newEmail) +
		"</strong>. From now on, mail about your account goes there, not to this address.</p>\n" +
		`<p style="margin:0 0 16px;">If you made this change, you need not do anything.</p>` + "\n" +
		`<p style="margin:0;"><strong>If you did not</strong>, someone else may be using your account: contact your administrator at once, so that they can give your account back its address.</p>`)
}

func (d emailChangedData) writeText(b *strings.Builder) {
	b.WriteString(hello(d.name) + "\n\n" +
		"The email address of your " + d.product + " account was changed on " + d.at + " to " + d.newEmail +
		". From now on, mail about your account goes there, not to this address.\n\n" +
		"If you made this change, you need not do anything.\n\n" +
		"If you did not, someone else may be using your account: contact your administrator at once, so that they can give your account back its address.\n")
}
