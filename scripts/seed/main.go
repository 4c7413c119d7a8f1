// Command seed creates the first admin in a deployed table, with the same code
// `make run` seeds the local one with. It uses your AWS credentials and
// region (the standard AWS environment and profiles).
//
//	TABLE_NAME=<the stack's TableName output> go run ./scripts/seed -email admin@acme.com
//
// The password comes from ADMIN_PASSWORD, or is generated and printed once.
// An existing account with that email is left alone.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/usermgmt/ums/pkg/access"
	"github.com/usermgmt/ums/pkg/app"
	"github.com/usermgmt/ums/pkg/config"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("seed: ")
	email := flag.String("email", "", "the admin's email (required)")
	flag.Parse()
	if *email == "" {
		log.Fatal("-email is required")
	}
	// Seeding sends no mail: the sender and the link base a function needs
	// may be left unset here.
	cfg, err := config.FromEnv(func(k string) string {
		if v := os.Getenv(k); v != "" || (k != config.EnvEmailFrom && k != config.EnvPublicBaseURL) {
			return v
		}
		return map[string]string{config.EnvEmailFrom: "seed@localhost.invalid", config.EnvPublicBaseURL: "https://seed.invalid"}[k]
	})
	if err != nil {
		log.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	password := os.Getenv("ADMIN_PASSWORD")
	generated := password == ""
	if generated {
		password = rand.Text() // 26 base32 characters, 130 bits
	}
	ctx := access.WithRequest(context.Background(), access.Request{ID: "seed", Now: time.Now().UTC()})
	created, err := a.Users.SeedAdmin(ctx, *email, password)
	switch {
	case err != nil:
		log.Fatal(err)
	case !created:
		fmt.Printf("%s already exists; nothing changed.\n", *email)
	case generated:
		fmt.Printf("Created the admin %s with the password %s\nIt is shown once: keep it in your password manager.\n", *email, password)
	default:
		fmt.Printf("Created the admin %s with ADMIN_PASSWORD.\n", *email)
	}
}
