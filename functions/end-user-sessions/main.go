// Command end-user-sessions is the Lambda function of the end-user-sessions route (see pkg/routes).
package main

import (
	"github.com/usermgmt/ums/pkg/apigw"
	"github.com/usermgmt/ums/pkg/app"
)

func main() { apigw.Start(app.MustHandler("end-user-sessions")) }
