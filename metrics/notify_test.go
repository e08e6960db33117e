package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moffman/moffman"
)

type counts []moffman.DeliveryCount

func (c counts) DeliveryCounts() []moffman.DeliveryCount { return c }

func TestNotificationCounts(t *testing.T) {
	m := New()
	m.WatchNotifications(counts{{Destination: "webhook:hooks.example.com/1a2b3c4d", Delivered: 7, Failed: 1}, {Destination: "email:approvers", Delivered: 2}})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`moffman_notifications_total{destination="webhook:hooks.example.com/1a2b3c4d",result="delivered"} 7`,
		`moffman_notifications_total{destination="webhook:hooks.example.com/1a2b3c4d",result="failed"} 1`,
		`moffman_notifications_total{destination="email:approvers",result="delivered"} 2`,
		`moffman_notifications_total{destination="email:approvers",result="failed"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
