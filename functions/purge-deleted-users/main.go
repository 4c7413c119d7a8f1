// Command purge-deleted-users is the scheduled function of the
// purge-deleted-users job (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/jobs"
)

func main() { jobs.Start(app.MustJob("purge-deleted-users")) }
