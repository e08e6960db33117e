package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moffman/moffman"
)

// webhook posts notifications as JSON, signed per Standard Webhooks v1
// (https://www.standardwebhooks.com/): webhook-id is the notification's
// id, the same on every retry so receivers can deduplicate;
// webhook-timestamp is the attempt's Unix time; webhook-signature is
// "v1," and the base64 HMAC-SHA256 of "id.timestamp.body".
type webhook struct {
	url    string
	key    []byte
	client *http.Client
	now    func() time.Time
}

// Payload is the JSON body of a webhook, in Standard Webhooks' layout:
// the event type, when it happened, and its data.
type Payload struct {
	Type      moffman.NotificationType `json:"type"`
	Timestamp time.Time                `json:"timestamp"`
	Data      PayloadData              `json:"data"`
}

// PayloadData is what a notification carries.
type PayloadData struct {
	ID         string        `json:"id"`
	Office     string        `json:"office_id"`
	CalendarID string        `json:"calendar_id"`
	EventID    string        `json:"event_id,omitempty"`
	Person     PayloadPerson `json:"person"`
	Start      string        `json:"start,omitempty"`
	End        string        `json:"end,omitempty"` // exclusive
	Status     string        `json:"status"`
	Detail     string        `json:"detail,omitempty"`
}

// PayloadPerson is the person the notification is about.
type PayloadPerson struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func payload(n moffman.Notification) Payload {
	return Payload{Type: n.Type, Timestamp: n.At.UTC(), Data: PayloadData{
		ID: n.ID, Office: n.Office, CalendarID: n.CalendarID, EventID: n.EventID,
		Person: PayloadPerson{Name: n.PersonName, Email: n.PersonEmail},
		Start:  n.Start, End: n.End, Status: n.Status, Detail: n.Detail,
	}}
}

func (w *webhook) send(ctx context.Context, d moffman.Delivery) error {
	body, err := json.Marshal(payload(d.Notification))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "moffman")
	req.Header.Set("webhook-id", d.Notification.ID)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", sign(w.key, d.Notification.ID, ts, body))
	return post(w.client, req)
}

// sign is the Standard Webhooks v1 signature.
func sign(key []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// post sends req and accepts any 2xx answer; 429 and 503 honour
// Retry-After.
func post(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("%s answered %s: %s", req.URL.Host, resp.Status, strings.TrimSpace(string(msg)))
	if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 &&
		(resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		return &retryAfter{err: err, wait: time.Duration(s) * time.Second}
	}
	return err
}
