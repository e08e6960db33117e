package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/moffman/moffman"
)

// slack posts a short readable message to a Slack incoming webhook
// (https://api.slack.com/messaging/webhooks). Slack allows one message a
// second per webhook; the destination's minGap keeps to that, and a 429
// with Retry-After pauses it. Slack answers errors as 4xx with a code in
// the body (invalid_payload, channel_not_found, …), kept as the last error.
type slack struct {
	url    string
	client *http.Client
}

func (s *slack) send(ctx context.Context, d moffman.Delivery) error {
	body, err := json.Marshal(map[string]string{"text": slackEscape(Text(d.Notification))})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return post(s.client, req)
}

// slackEscape escapes the three characters Slack's mrkdwn reserves, so a
// name cannot mention @channel or make a link.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
