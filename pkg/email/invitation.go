package email

import (
	"fmt"

	"github.com/usermgmt/ums/pkg/notices"
)

// The invitation names who invites, to what role and team, carries their
// personal message, and says until when the link works: an invitee decides
// whether to trust an unexpected mail from exactly these things.
var (
	invitationHTML = newHTML("invitation", `{{template "h1" .Subject}}
<p style="margin:0 0 16px;">{{.Inviter}} invited you to join {{.Product}} as {{.Role}}{{if .Team}}, in the team <strong>{{.Team}}</strong>{{end}}.</p>
{{- if .Message}}
<p style="margin:0 0 8px;">{{.Inviter}} wrote:</p>
<blockquote style="margin:0 0 16px;padding:12px 16px;border-left:4px solid #a1a1aa;background-color:#fafafa;color:#27272a;">{{range $i, $line := .Message}}{{if $i}}<br>
{{end}}{{$line}}{{end}}</blockquote>
{{- end}}
{{template "button" button .Link "Accept or decline the invitation"}}
<p style="margin:0 0 16px;">The invitation expires on {{.Expires}}.</p>
<p style="margin:0;color:#3f3f46;">If you did not expect this invitation, you can ignore this email: nothing happens unless you accept.</p>`)

	invitationText = newText("invitation", `{{.Inviter}} invited you to join {{.Product}} as {{.Role}}{{if .Team}}, in the team {{.Team}}{{end}}.
{{if .Message}}
{{.Inviter}} wrote:

{{range .Message}}> {{.}}
{{end}}{{end}}
Accept or decline the invitation here:
{{.Link}}

The invitation expires on {{.Expires}}.

If you did not expect this invitation, you can ignore this email: nothing happens unless you accept.
`)
)

type invitationData struct {
	frame
	Inviter string
	Role    string
	Team    string
	Message []string
	Link    string
	Expires string
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
	subject := inviter + " invited you to " + product
	d := invitationData{
		frame: frame{
			Product: product,
			Subject: subject,
			Why:     "You receive this email because " + inviter + " entered this address to invite you.",
		},
		Inviter: inviter,
		Role:    role,
		Team:    oneLine(n.TeamName),
		Message: paragraphs(n.Message),
		Link:    n.Link,
		Expires: formatTime(n.ExpiresAt),
	}
	return render(n.To, subject, invitationHTML, invitationText, d)
}
