package email

import (
	"fmt"
	"html"
	"strings"

	"github.com/usermgmt/ums/pkg/notices"
)

// The reset mail says who asked for it (the user, or an administrator for
// them), until when the link works, and that ignoring it is safe: a reset
// nobody asked for is the usual sign of someone probing an account.
type passwordResetData struct {
	frame
	name    string
	byAdmin bool
	link    string
	expires string
}

func renderPasswordReset(n notices.PasswordReset, product string) (Message, error) {
	if err := checkLink("password reset", n.Link); err != nil {
		return Message{}, err
	}
	if n.ExpiresAt.IsZero() {
		return Message{}, fmt.Errorf("email: the password reset has no expiry")
	}
	d := passwordResetData{
		frame: frame{
			product: product,
			subject: "Reset your password",
			why:     "You receive this email because a password reset was asked for your " + product + " account.",
		},
		name:    oneLine(n.Name),
		byAdmin: n.ByAdmin,
		link:    n.Link,
		expires: formatTime(n.ExpiresAt),
	}
	return render(n.To, d.frame, d.writeHTML, d.writeText), nil
}

// who says who asked for the reset, the same in both parts.
func (d passwordResetData) who() string {
	if d.byAdmin {
		return "An administrator of " + d.product + " sent you this link so that you can choose a new password for your account."
	}
	return "Someone, probably you, asked to reset the password of your " + d.product + " account."
}

func (d passwordResetData) writeHTML(b *strings.Builder) {
	writeH1(b, d.subject)
	b.WriteString("\n" + `<p style="margin:0 0 16px;">` + html.EscapeString(hello(d.name)) + "</p>\n" +
		`<p style="margin:0 0 16px;">` + html.EscapeString(d.who()) + "</p>\n")
	writeButton(b, d.link, "Choose a new password")
	b.WriteString("\n" + `<p style="margin:0 0 16px;">The link expires on ` + html.EscapeString(d.expires) + ".</p>\n" +
		`<p style="margin:0;color:#3f3f46;">If you did not ask for this, ignore this email: your password stays as it is.</p>`)
}

func (d passwordResetData) writeText(b *strings.Builder) {
	b.WriteString(hello(d.name) + "\n\n" +
		d.who() + "\n\n" +
		"Choose a new password here:\n" + d.link + "\n\n" +
		"The link expires on " + d.expires + ".\n\n" +
		"If you did not ask for this, ignore this email: your password stays as it is.\n")
}
