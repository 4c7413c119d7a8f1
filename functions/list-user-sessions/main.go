// Command list-user-sessions is the Lambda function of the list-user-sessions route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("list-user-sessions")) }
