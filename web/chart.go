package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moffman/moffman"
)

// chart is the occupancy bar chart, drawn on the server as inline SVG: a
// bar per day of the desks taken, the capacity as a dashed line, closed
// days as grey bands with a cross. Its geometry is in SVG user units; the
// stylesheet scales it to the page's width.
type chart struct {
	Width, Height      int
	Title, Desc        string
	Left, Right        int // the plot's edges
	Top, Bottom        int
	Bars, Closed       []box
	Crosses            []point // one per closed day, at its foot
	Grid               []tick
	Labels             []point // under the first day of each week
	CapacityPath       string  // "" without a capacity
	TodayX             int     // with ShowToday: where today is
	ShowToday          bool
	HasClosed, HasBars bool
}

type box struct {
	X, Y, W, H int
	Class      string
	Tip        string // a tooltip for pointers
}

type point struct {
	X, Y int
	Text string
}

type tick struct {
	Y     int
	Label string
}

// The chart's layout, in user units. The days share chartDays units, so
// the chart has about the same size whatever the window's length.
const (
	chartDays   = 756
	chartLeft   = 40 // room for the axis labels
	chartRight  = 10
	chartTop    = 18 // room for "today"
	chartPlot   = 180
	chartBottom = 24 // room for the dates
)

// drawChart lays out the days of a window that starts on first.
func drawChart(days []moffman.DayAvailability, first, today time.Time) chart {
	chartStep := max(chartDays/max(len(days), 1), 4)
	chartBar := max(chartStep*3/4, 3)
	weeksPerLabel := (60 + 7*chartStep - 1) / (7 * chartStep) // a date takes about 40 units
	c := chart{
		Width: chartLeft + len(days)*chartStep + chartRight, Height: chartTop + chartPlot + chartBottom,
		Left: chartLeft, Top: chartTop, Bottom: chartTop + chartPlot,
	}
	c.Right = c.Width - chartRight
	highest := 1
	for _, d := range days {
		highest = max(highest, d.Approved)
		if d.Capacity != nil {
			highest = max(highest, *d.Capacity)
		}
	}
	step, top := scale(highest)
	y := func(v int) int { return c.Bottom - v*chartPlot/top }
	for v := 0; v <= top; v += step {
		c.Grid = append(c.Grid, tick{Y: y(v), Label: strconv.Itoa(v)})
	}
	lastLabel := 0
	capY := make([]int, len(days)) // the capacity line's height each day; -1: none
	for i, d := range days {
		x := chartLeft + i*chartStep
		date := first.AddDate(0, 0, i)
		monday := date.Weekday() == time.Monday && (i/7)%weeksPerLabel == 0
		if i == 0 || monday && x-lastLabel >= 45 && x+30 <= c.Right {
			lastLabel = x
			c.Labels = append(c.Labels, point{X: x, Y: c.Bottom + 16, Text: date.Format("2 Jan")})
		}
		if date.Equal(today) {
			c.ShowToday, c.TodayX = true, x+chartStep/2
		}
		if d.Closed {
			c.HasClosed = true
			c.Closed = append(c.Closed, box{X: x, Y: c.Top, W: chartStep, H: chartPlot, Class: "closed",
				Tip: date.Format("Mon 2 Jan") + ": closed" + reason(d.Reason)})
			c.Crosses = append(c.Crosses, point{X: x + chartStep/2, Y: c.Bottom - 4, Text: "×"})
		}
		capY[i] = -1
		if d.Capacity != nil {
			capY[i] = y(*d.Capacity)
		}
		if d.Approved == 0 {
			continue
		}
		c.HasBars = true
		class, tip := "bar", fmt.Sprintf("%s: %d approved", date.Format("Mon 2 Jan"), d.Approved)
		if d.Capacity != nil {
			tip = fmt.Sprintf("%s: %d of %d desks taken", date.Format("Mon 2 Jan"), d.Approved, *d.Capacity)
			if d.Approved > *d.Capacity {
				class = "bar over"
			}
		}
		c.Bars = append(c.Bars, box{X: x + (chartStep-chartBar)/2, Y: y(d.Approved), W: chartBar, H: c.Bottom - y(d.Approved), Class: class, Tip: tip})
	}
	c.CapacityPath = capacityPath(capY, chartStep)
	return c
}

// capacityPath draws the capacity as a line that runs on while it stays the
// same: a segment per change, not per day.
func capacityPath(capY []int, step int) string {
	var path strings.Builder
	for i := 0; i < len(capY); {
		j := i + 1
		for j < len(capY) && capY[j] == capY[i] {
			j++
		}
		if capY[i] >= 0 {
			fmt.Fprintf(&path, "M%d %dH%d", chartLeft+i*step, capY[i], chartLeft+j*step)
		}
		i = j
	}
	return path.String()
}

// scale picks the step of the value axis (1, 2 or 5 times a power of ten)
// that makes at most 5 steps reach highest, and the top it reaches.
func scale(highest int) (step, top int) {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if step = m * p; highest <= 5*step {
				return step, (highest + step - 1) / step * step
			}
		}
	}
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}
