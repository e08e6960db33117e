package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moffman/moffman"
)

// DeliveryCounter reports notification deliveries per destination (the
// notify package's Service).
type DeliveryCounter interface {
	DeliveryCounts() []moffman.DeliveryCount
}

// WatchNotifications exposes delivered and failed notifications per
// destination, read at scrape time.
func (m *Metrics) WatchNotifications(c DeliveryCounter) {
	m.reg.MustRegister(&notifyCollector{counts: c})
}

var notificationsTotal = prometheus.NewDesc("moffman_notifications_total",
	"Notifications since start by destination and result (delivered, failed: given up after a day).",
	[]string{"destination", "result"}, nil)

type notifyCollector struct{ counts DeliveryCounter }

func (c *notifyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- notificationsTotal }

func (c *notifyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.counts.DeliveryCounts() {
		ch <- prometheus.MustNewConstMetric(notificationsTotal, prometheus.CounterValue, float64(d.Delivered), d.Destination, "delivered")
		ch <- prometheus.MustNewConstMetric(notificationsTotal, prometheus.CounterValue, float64(d.Failed), d.Destination, "failed")
	}
}
