package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/usermgmt/ums/pkg/notices"
)

// DefaultProduct names the product in subjects and footers when
// Config.Product is empty.
const DefaultProduct = "User management"

// Message is one rendered email: the recipient, the subject and the two
// bodies. Both bodies say the same thing, so that a reader whose client
// shows only text (or reads it aloud) misses nothing.
type Message struct {
	To      string
	Subject string
	HTML    string
	Text    string
}

// Render renders a notice into its message; product names the product
// (DefaultProduct when empty). It does not validate the recipient or the
// subject as headers: Send does, before anything leaves.
func Render(n notices.Notice, product string) (Message, error) {
	if product == "" {
		product = DefaultProduct
	}
	switch n := n.(type) {
	case notices.Invitation:
		return renderInvitation(n, product)
	case *notices.Invitation:
		if n != nil {
			return renderInvitation(*n, product)
		}
	case notices.PasswordReset:
		return renderPasswordReset(n, product)
	case *notices.PasswordReset:
		if n != nil {
			return renderPasswordReset(*n, product)
		}
	case notices.PasswordChanged:
		return renderPasswordChanged(n, product)
	case *notices.PasswordChanged:
		if n != nil {
			return renderPasswordChanged(*n, product)
		}
	case notices.EmailChanged:
		return renderEmailChanged(n, product)
	case *notices.EmailChanged:
		if n != nil {
			return renderEmailChanged(*n, product)
		}
	}
	return Message{}, fmt.Errorf("email: no message for notice %T", n)
}

// frame is what every page and text around a message's content uses.
type frame struct {
	Product string
	Subject string
	// Why tells the reader why they get this mail, in the footer.
	Why string
}

// The layout is plain on purpose: one column of text, inline styles only
// (mail clients drop <style> and external sheets), system fonts, no images,
// colours with at least 4.5:1 contrast, layout tables marked presentational
// so screen readers skip them, and a lang so they pick the right voice.
const htmlLayout = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f5;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background-color:#ffffff;border:1px solid #e4e4e7;border-radius:8px;">
<tr><td style="padding:32px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#18181b;">
{{template "content" .}}
</td></tr>
</table>
<p style="margin:16px 0 0;max-width:560px;font-family:Arial,Helvetica,sans-serif;font-size:13px;line-height:1.5;color:#52525b;">{{.Why}}<br>{{.Product}}</p>
</td></tr>
</table>
</body>
</html>
`

// Pieces the messages share, so that headings, paragraphs and buttons look
// the same in every mail.
const htmlParts = `
{{define "h1"}}<h1 style="margin:0 0 16px;font-size:22px;line-height:1.3;color:#18181b;">{{.}}</h1>{{end}}
{{define "button"}}<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px 0;">
<tr><td style="border-radius:6px;background-color:#1d4ed8;">
<a href="{{.Link}}" style="display:inline-block;padding:12px 24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px;">{{.Label}}</a>
</td></tr>
</table>
<p style="margin:0 0 16px;font-size:14px;color:#3f3f46;">If the button does not work, copy this address into your browser:<br>
<a href="{{.Link}}" style="color:#1d4ed8;word-break:break-all;">{{.Link}}</a></p>{{end}}
`

// The text part's paragraphs are one line each: the values in them vary in
// length, so any wrapping done here would come out wrong; mail clients wrap,
// and SES encodes long lines for SMTP. "-- " opens the signature, which
// clients then show dimmed or fold away.
const textLayout = `{{template "content" .}}
-- 
{{.Why}}
{{.Product}}
`

// button is the data of the "button" template: a link and its label.
type button struct {
	Link  string
	Label string
}

// newHTML parses one message's content into the layout. It panics on a bad
// template, at init: a template is code, not input.
func newHTML(name, content string) *htmltemplate.Template {
	t := htmltemplate.New(name).Funcs(htmltemplate.FuncMap{"button": newButton})
	t = htmltemplate.Must(t.Parse(htmlLayout))
	t = htmltemplate.Must(t.Parse(htmlParts))
	return htmltemplate.Must(t.Parse(`{{define "content"}}` + content + `{{end}}`))
}

// newText parses one message's text content into the text layout.
func newText(name, content string) *texttemplate.Template {
	t := texttemplate.Must(texttemplate.New(name).Parse(textLayout))
	return texttemplate.Must(t.Parse(`{{define "content"}}` + content + `{{end}}`))
}

func newButton(link, label string) button { return button{Link: link, Label: label} }

// render executes both templates on data into a message to to.
func render(to, subject string, h *htmltemplate.Template, t *texttemplate.Template, data any) (Message, error) {
	var hb, tb bytes.Buffer
	if err := h.Execute(&hb, data); err != nil {
		return Message{}, fmt.Errorf("email: render %s (html): %w", h.Name(), err)
	}
	if err := t.Execute(&tb, data); err != nil {
		return Message{}, fmt.Errorf("email: render %s (text): %w", t.Name(), err)
	}
	return Message{To: to, Subject: subject, HTML: hb.String(), Text: tb.String()}, nil
}

// TimeLayout formats every time a message shows: in UTC, spelled out, so
// that no reader has to guess a time zone or a day-month order.
const TimeLayout = "Monday 2 January 2006, 15:04 UTC"

// formatTime formats t with TimeLayout, in UTC.
func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// checkLink refuses a link that is not an absolute http(s) URL, which would
// be a bug upstream (html/template would defuse it, but the mail would be
// useless). The error never includes the link: it carries a token.
func checkLink(what, link string) error {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsFunc(link, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("email: the %s link is not an absolute http(s) URL", what)
	}
	return nil
}

// paragraphs splits a personal message into its lines, for the HTML part
// (one <br> between lines) and the text part (each line quoted): line
// endings of any kind become one, control characters other than tabs go,
// and blank lines around the message are dropped.
func paragraphs(s string) []string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.NewReplacer("\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u0085", "\n").Replace(s)
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || isBidiControl(r)) {
			return -1
		}
		return r
	}, s)
	s = strings.Trim(s, " \t\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return lines
}
