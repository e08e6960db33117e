package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moffman/moffman"
)

type stubStatus []moffman.OfficeSyncStatus

func (s stubStatus) Status(context.Context) ([]moffman.OfficeSyncStatus, error) { return s, nil }

func TestJobsWaitingForAnOperatorAreCounted(t *testing.T) {
	m := New()
	waiting := moffman.Job{OfficeID: "prague", EventID: "evt01", Step: moffman.StepNeedsOperator}
	m.WatchSync(stubStatus{
		{Office: "prague", Jobs: moffman.JobStats{Pending: 3, NeedsOperator: []moffman.Job{waiting, waiting}}},
		{Office: "brno", Jobs: moffman.JobStats{Pending: 1}},
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`moffman_jobs_needs_operator{office="prague"} 2`,
		`moffman_jobs_needs_operator{office="brno"} 0`,
		`moffman_jobs_pending{office="prague"} 3`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
