// Command prepare-table is the function of the prepare-table job (see
// pkg/routes), run when the stack is deployed.
package main

import (
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/jobs"
)

func main() { jobs.StartOnDeploy(app.MustDeployJob("prepare-table")) }
