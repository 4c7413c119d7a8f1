// Command list-teams is the Lambda function of the list-teams route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("list-teams")) }
