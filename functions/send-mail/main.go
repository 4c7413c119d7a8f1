// Command send-mail is the stream function of the send-mail job (see
// pkg/routes): it sends the mail routes queue in the outbox. It sends mail,
// so it carries the SES client.
package main

import (
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/email"
	"github.com/usermgmt/ums/pkg/jobs"
)

func main() { jobs.StartStream(app.MustStreamJob("send-mail", app.WithSender(email.FromConfig))) }
