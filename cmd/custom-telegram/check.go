package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/check"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/telegram"
)

// runCheck runs "custom-telegram check [-config PATH] [-home DIR]
// [-send-test]" with the arguments after "check".
func runCheck(args []string) int {
	return runCheckTo(args, os.Stdout, os.Stderr)
}

// runCheckTo prints one line per check, then a summary. It returns 0 when
// no check failed, 1 when one did or when SIGINT or SIGTERM stopped the run,
// and 2 for invalid flags.
func runCheckTo(args []string, stdout, stderr io.Writer) int {
	const name = "custom-telegram check"
	var sendTest *bool
	home, configPath, status, ok := check.ParseFlags(name, args, stderr, func(flags *flag.FlagSet) {
		sendTest = flags.Bool("send-test", false, "also post a test message to telegram.chat_id")
	})
	if !ok {
		return status
	}

	opts := check.NewOptions(check.ProgramTelegram, home, configPath)
	opts.NewTelegramProbe = newBotProbe
	opts.SendTest = *sendTest
	status = check.Execute(name, opts, stdout, stderr)
	if !*sendTest {
		fmt.Fprintln(stdout, "telegram.chat_id was not tested: add -send-test to post a test message")
	}
	return status
}

// botProbe implements check.TelegramProbe with the delivery client.
type botProbe struct {
	client   *telegram.Client
	chatID   string
	threadID int64
}

func newBotProbe(cfg *config.Config) (check.TelegramProbe, error) {
	client, err := telegram.NewClient(telegram.OptionsFromConfig(cfg.Telegram))
	if err != nil {
		return nil, err
	}
	return botProbe{client: client, chatID: string(cfg.Telegram.ChatID), threadID: cfg.Telegram.MessageThreadID}, nil
}

func (p botProbe) GetMe(ctx context.Context) (string, error) {
	username, err := p.client.GetMe(ctx)
	return username, probeError(err)
}

// SendTest sends text without a parse mode, so no markup can be rejected.
func (p botProbe) SendTest(ctx context.Context, text string) error {
	return probeError(p.client.Send(ctx, telegram.Message{ChatID: p.chatID, ThreadID: p.threadID, Text: text}))
}

// probeError turns a delivery error into the form the checks classify.
func probeError(err error) error {
	var tgErr *telegram.Error
	if !errors.As(err, &tgErr) {
		return err
	}
	return &check.TelegramError{
		Code:            tgErr.Code,
		Description:     tgErr.Description,
		MigrateToChatID: tgErr.NewChatID,
		RetryAfter:      tgErr.RetryAfter,
	}
}
