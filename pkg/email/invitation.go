package email

import (
	"fmt"
	"html"
	"strings"

	"github.com/usermgmt/ums/pkg/notices"
)

// The invitation names who invites, to what role and team, carries their
// personal message, and says until when the link works: an invitee decides
// whether to trust an unexpected mail from exactly these things.
type invitationData struct {
	frame
	inviter string
	role    string
	team    string   // empty when the invitation names no team
	message []string // the personal message's lines, none without one
	link    string
	expires string
}

// roleNames says each role as the sentence needs it: "as an administrator".
var roleNames = map[string]string{
	"admin":   "an administrator",
	"manager": "a manager",
	"member":  "a member",
}

func renderInvitation(n notices.Invitation, product string) (Message, error) {
	if err := checkLink("invitation", n.Link); err != nil {
		return Message{}, err
	}
	if n.ExpiresAt.IsZero() {
		return Message{}, fmt.Errorf("email: the invitation has no expiry")
	}
	inviter := oneLine(n.InviterName)
	if inviter == "" {
		inviter = "Someone"
	}
	role, ok := roleNames[n.Role]
	if !ok {
		role = "“" + oneLine(n.Role) + "”"
	}
	d := invitationData{
		frame: frame{
			product: product,
			subject: inviter + " invited you to " + product,
			why:     "You receive this email because " + inviter + " entered this address to invite you.",
		},
		inviter: inviter,
		role:    role,
		team:    oneLine(n.TeamName),
		message: paragraphs(n.Message),
		link:    n.Link,
		expires: formatTime(n.ExpiresAt),
	}
	return render(n.To, d.frame, d.writeHTML, d.writeText), nil
}

func (d invitationData) writeHTML(b *strings.Builder) {
	writeH1(b, d.subject)
	b.WriteString("\n" + `<p style="margin:0 0 16px;">` + html.EscapeString(d.inviter) +
		" invited you to join " + html.EscapeString(d.product) + " as " + html.EscapeString(d.role))
	if d.team != "" {
		b.WriteString(", in the team <strong>" + html.EscapeString(d.team) + "</strong>")
	}
	b.WriteString(".</p>")
	if len(d.message) > 0 {
		b.WriteString("\n" + `<p style="margin:0 0 8px;">` + html.EscapeString(d.inviter) + " wrote:</p>\n" +
			`<blockquote style="margin:0 0 16px;padding:12px 16px;border-left:4px solid #a1a1aa;background-color:#fafafa;color:#27272a;">`)
		for i, line := range d.message {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			b.WriteString(html.EscapeString(line))
		}
		b.WriteString("</blockquote>")
	}
	b.WriteString("\n")
	writeButton(b, d.link, "Accept or decline the invitation")
	b.WriteString("\n" + `<p style="margin:0 0 16px;">The invitation expires on ` + html.EscapeString(d.expires) + ".</p>\n" +
		`<p style="margin:0;color:#3f3f46;">If you did not expect this invitation, you can ignore this email: nothing happens unless you accept.</p>`)
}

func (d invitationData) writeText(b *strings.Builder) {
	b.WriteString(d.inviter + " invited you to join " + d.product + " as " + d.role)
	if d.team != "" {
		b.WriteString(", in the team " + d.team)
	}
	b.WriteString(".\n")
	if len(d.message) > 0 {
		b.WriteString("\n" + d.inviter + " wrote:\n\n")
		for _, line := range d.message {
			b.WriteString("> " + line + "\n")
		}
	}
	b.WriteString("\nAccept or decline the invitation here:\n" + d.link + "\n\n" +
		"The invitation expires on " + d.expires + ".\n\n" +
		"If you did not expect this invitation, you can ignore this email: nothing happens unless you accept.\n")
}
