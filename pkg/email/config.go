package email

import (
	"context"

	"github.com/usermgmt/ums/pkg/config"
	"github.com/usermgmt/ums/pkg/notices"
)

// FromConfig is the sender a function that sends mail is built with
// (app.WithSender): the SES client of the configured region or emulator,
// sending as EMAIL_FROM, with the configured configuration set and product.
func FromConfig(ctx context.Context, cfg config.Config) (notices.Sender, error) {
	client, err := NewClient(ctx, cfg.Region, cfg.SESEndpoint)
	if err != nil {
		return nil, err
	}
	return NewSES(client, Config{From: cfg.EmailFrom, ConfigurationSet: cfg.SESConfigurationSet, Product: cfg.ProductName})
}
