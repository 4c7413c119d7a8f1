// Command list-my-sessions is the Lambda function of the list-my-sessions route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("list-my-sessions")) }
