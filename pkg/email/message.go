package email

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/notices"
)

// DefaultProduct names the product in subjects and footers when
// Config.Product is empty.
const DefaultProduct = config.DefaultProduct

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
	product string
	subject string
	// why tells the reader why they get this mail, in the footer.
	why string
}

// render wraps a message's content in the layouts, into a message to to:
// writeHTML writes the HTML content, writeText the text content.
func render(to string, f frame, writeHTML, writeText func(*strings.Builder)) Message {
	return Message{To: to, Subject: f.subject, HTML: htmlPage(f, writeHTML), Text: textPage(f, writeText)}
}

// htmlPage is the HTML layout around a message's content. Every value in
// the HTML part, here and in the messages, goes through html.EscapeString,
// attribute values included: a name or a link may hold any character.
//
// The layout is plain on purpose: one column of text, inline styles only
// (mail clients drop <style> and external sheets), system fonts, no images,
// colours with at least 4.5:1 contrast, layout tables marked presentational
// so screen readers skip them, and a lang so they pick the right voice.
func htmlPage(f frame, writeContent func(*strings.Builder)) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + html.EscapeString(f.subject) + `</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f4f5;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background-color:#ffffff;border:1px solid #e4e4e7;border-radius:8px;">
<tr><td style="padding:32px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#18181b;">
`)
	writeContent(&b)
	b.WriteString(`
</td></tr>
</table>
<p style="margin:16px 0 0;max-width:560px;font-family:Arial,Helvetica,sans-serif;font-size:13px;line-height:1.5;color:#52525b;">` +
		html.EscapeString(f.why) + `<br>` + html.EscapeString(f.product) + `</p>
</td></tr>
</table>
</body>
</html>
`)
	return b.String()
}

// textPage is the text layout around a message's content, which ends with
// a line break; a blank line parts it from the signature. The text part's
// paragraphs are one line each: the values in them vary in length, so any
// wrapping done here would come out wrong; mail clients wrap, and SES
// encodes long lines for SMTP. "-- " opens the signature, which clients
// then show dimmed or fold away.
func textPage(f frame, writeContent func(*strings.Builder)) string {
	var b strings.Builder
	writeContent(&b)
	b.WriteString("\n-- \n" + f.why + "\n" + f.product + "\n")
	return b.String()
}

// The pieces below are shared, so that headings, greetings and buttons
// look and read the same in every mail.

// writeH1 writes the heading of an HTML part.
func writeH1(b *strings.Builder, text string) {
	b.WriteString(`<h1 style="margin:0 0 16px;font-size:22px;line-height:1.3;color:#18181b;">` + html.EscapeString(text) + `</h1>`)
}

// writeButton writes a link as a button, then as an address to copy, for
// the clients that render the button badly or not at all.
func writeButton(b *strings.Builder, link, label string) {
	link = html.EscapeString(link)
	b.WriteString(`<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px 0;">
<tr><td style="border-radius:6px;background-color:#1d4ed8;">
<a href="` + link + `" style="display:inline-block;padding:12px 24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px;">` + html.EscapeString(label) + `</a>
</td></tr>
</table>
<p style="margin:0 0 16px;font-size:14px;color:#3f3f46;">If the button does not work, copy this address into your browser:<br>
<a href="` + link + `" style="color:#1d4ed8;word-break:break-all;">` + link + `</a></p>`)
}

// hello is the greeting, with the name when there is one; the HTML part
// escapes it like any value.
func hello(name string) string {
	if name == "" {
		return "Hello,"
	}
	return "Hello " + name + ","
}

// TimeLayout formats every time a message shows: in UTC, spelled out, so
// that no reader has to guess a time zone or a day-month order.
const TimeLayout = "Monday 2 January 2006, 15:04 UTC"

// formatTime formats t with TimeLayout, in UTC.
func formatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// checkLink refuses a link that is not an absolute http(s) URL, which would
// be a bug upstream and a useless mail, or worse: escaping keeps a link
// inside its href, but a javascript: link would still run when clicked.
// The error never includes the link: it carries a token.
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
