// Command expire-invitations is the scheduled function of the
// expire-invitations job (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/jobs"
)

func main() { jobs.Start(app.MustJob("expire-invitations")) }
