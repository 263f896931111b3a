package cost

import (
	"fmt"
	"math"
	"strings"
)

// series is one line of the chart.
type series struct {
	name, color, dash string
	at                func(flows float64) float64
}

// SVG is docs/cost.svg: monthly cost against monthly flows, both on log scales, for
// pargate's profiles and Cognito's and Auth0's per-user prices.
func SVG(in Inputs) (string, error) {
	bill, err := in.Price()
	if err != nil {
		return "", err
	}
	lines := []series{
		{"pargate default", "#1f77b4", "", func(f float64) float64 { return bill.Monthly(f, ProfileDefault, false) }},
		{"pargate fapi2", "#2ca02c", "6 3", func(f float64) float64 { return bill.Monthly(f, ProfileFAPI, false) }},
		{"pargate default + CloudFront, WAF", "#9467bd", "2 3", func(f float64) float64 { return bill.Monthly(f, ProfileDefault, true) }},
		{"Cognito Essentials", "#ff7f0e", "", Cognito},
		{"Auth0 B2C Essentials rate", "#d62728", "", Auth0},
	}
	const (
		width, height                      = 760, 440
		left, right, top, bottom           = 80, 250, 30, 60
		xMinExp, xMaxExp, yMinExp, yMaxExp = 4, 8, 0, 7 // 10^4..10^8 flows, $1..$10^7
	)
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	x := func(f float64) float64 {
		return float64(left) + (math.Log10(f)-xMinExp)/(xMaxExp-xMinExp)*plotW
	}
	y := func(d float64) float64 {
		return float64(top) + (1-(math.Log10(d)-yMinExp)/(yMaxExp-yMinExp))*plotH
	}
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<title>Monthly cost against monthly flows (%s list prices of %s)</title>`+"\n", Region, PricesDate)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	for e := xMinExp; e <= xMaxExp; e++ {
		px := x(math.Pow(10, float64(e)))
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", px, top, px, height-bottom)
		p(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", px, height-bottom+18, commas(int64(math.Pow(10, float64(e)))))
	}
	for e := yMinExp; e <= yMaxExp; e++ {
		py := y(math.Pow(10, float64(e)))
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, py, width-right, py)
		p(`<text x="%d" y="%.1f" text-anchor="end">$%s</text>`+"\n", left-6, py+4, commas(int64(math.Pow(10, float64(e)))))
	}
	p(`<text x="%.1f" y="%d" text-anchor="middle">authorizations (flows) a month</text>`+"\n", float64(left)+plotW/2, height-18)
	p(`<text x="18" y="%.1f" text-anchor="middle" transform="rotate(-90 18 %.1f)">US dollars a month</text>`+"\n", float64(top)+plotH/2, float64(top)+plotH/2)
	const steps = 80
	for i, s := range lines {
		var pts []string
		for k := 0; k <= steps; k++ {
			f := math.Pow(10, xMinExp+float64(k)/steps*(xMaxExp-xMinExp))
			v := s.at(f)
			if v < math.Pow(10, yMinExp) {
				continue // below the axis (Cognito's free users)
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(f), y(math.Min(v, math.Pow(10, yMaxExp)))))
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		p(`<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", s.color, dash, strings.Join(pts, " "))
		ly := top + 10 + i*22
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", width-right+15, ly, width-right+45, ly, s.color, dash)
		p(`<text x="%d" y="%d">%s</text>`+"\n", width-right+52, ly+4, s.name)
	}
	p(`<text x="%d" y="%d" fill="#555">%d flows per user a month</text>`+"\n", width-right+15, top+10+len(lines)*22+8, FlowsPerUserPerMonth)
	p("</svg>\n")
	return b.String(), nil
}
