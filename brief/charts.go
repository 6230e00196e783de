package brief

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart size: readable on a laptop and in a PDF print of the HTML.
const (
	chartW   = 16 * vg.Centimeter
	chartH   = 8 * vg.Centimeter
	chartDPI = 110
)

var (
	colOrganic = color.RGBA{R: 0x9e, G: 0xb3, B: 0xc2, A: 0xff}
	colNetwork = color.RGBA{R: 0xc0, G: 0x39, B: 0x2b, A: 0xff}
	colFavour  = color.RGBA{R: 0x27, G: 0xae, B: 0x60, A: 0xff}
	colSmear   = color.RGBA{R: 0xc0, G: 0x39, B: 0x2b, A: 0xff}
)

func (rep *Report) renderCharts() error {
	for _, f := range []func() (Chart, bool, error){rep.activityChart, rep.stanceChart, rep.networkChart} {
		c, ok, err := f()
		if err != nil {
			return fmt.Errorf("brief %s: chart: %w", rep.Date, err)
		}
		if ok {
			rep.Charts = append(rep.Charts, c)
		}
	}
	return nil
}

func renderPNG(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(chartDPI))}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (rep *Report) activityChart() (Chart, bool, error) {
	p := plot.New()
	p.Title.Text = "Posts per hour (UTC)"
	p.Y.Label.Text = "posts"
	organic, network := make(plotter.Values, 24), make(plotter.Values, 24)
	for h := range 24 {
		network[h] = float64(rep.HourlyNetworked[h])
		organic[h] = float64(rep.Hourly[h] - rep.HourlyNetworked[h])
	}
	w := vg.Points(9)
	bo, err := plotter.NewBarChart(organic, w)
	if err != nil {
		return Chart{}, false, err
	}
	bo.Color, bo.LineStyle.Width = colOrganic, 0
	bn, err := plotter.NewBarChart(network, w)
	if err != nil {
		return Chart{}, false, err
	}
	bn.Color, bn.LineStyle.Width = colNetwork, 0
	bn.StackOn(bo)
	p.Add(bo, bn)
	p.Legend.Add("other accounts", bo)
	p.Legend.Add("members of the day's networks", bn)
	p.Legend.Top, p.Legend.Left = true, true // the small hours are the quietest
	names := make([]string, 24)
	for h := range 24 {
		if h%3 == 0 {
			names[h] = fmt.Sprintf("%02dh", h)
		}
	}
	p.NominalX(names...)
	b, err := renderPNG(p, chartW, chartH)
	return Chart{Name: "activity", Title: "Activity over the day", PNG: b,
		Alt:     fmt.Sprintf("Bar chart of %d posts per hour, networked accounts stacked in red", rep.PostsRead),
		Caption: "Posts per hour; the red part is by members of the networks active that day."}, true, err
}

func (rep *Report) stanceChart() (Chart, bool, error) {
	if len(rep.Candidates) == 0 {
		return Chart{}, false, nil
	}
	cands := rep.Candidates[:min(len(rep.Candidates), 8)]
	fav, smear := make(plotter.Values, len(cands)), make(plotter.Values, len(cands))
	names := make([]string, len(cands))
	for i, c := range cands {
		fav[i], smear[i], names[i] = c.Favour, c.Smear, c.Name
	}
	p := plot.New()
	p.Title.Text = "Stance of the networks per candidate"
	p.Y.Label.Text = "member-equivalents"
	w := vg.Points(14)
	bf, err := plotter.NewBarChart(fav, w)
	if err != nil {
		return Chart{}, false, err
	}
	bf.Color, bf.LineStyle.Width, bf.Offset = colFavour, 0, -w/2
	bs, err := plotter.NewBarChart(smear, w)
	if err != nil {
		return Chart{}, false, err
	}
	bs.Color, bs.LineStyle.Width, bs.Offset = colSmear, 0, w/2
	p.Add(bf, bs)
	p.Legend.Add("favour", bf)
	p.Legend.Add("smear", bs)
	p.Legend.Top = true
	p.NominalX(names...)
	b, err := renderPNG(p, chartW, chartH)
	return Chart{Name: "stance", Title: "Candidates favoured and smeared", PNG: b,
		Alt:     "Bar chart of favour and smear per candidate",
		Caption: "For each candidate, the networks' members weighted by the share of their posts favouring (green) or smearing (red) them."}, true, err
}

// network draws every edge of the day's clusters as segments: each
// cluster on its own circle, clusters on a grid, riskiest first.
type network struct {
	segs   [][2]plotter.XY
	nodes  []plotter.XY
	colors []color.Color
	labels []plotter.XY
	names  []string
}

func (n *network) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for i, s := range n.segs {
		ls := draw.LineStyle{Color: withAlpha(n.colors[i], 0x60), Width: vg.Points(0.5)}
		c.StrokeLine2(ls, tx(s[0].X), ty(s[0].Y), tx(s[1].X), ty(s[1].Y))
	}
	for _, v := range n.nodes {
		c.FillPolygon(color.Black, circle(vg.Point{X: tx(v.X), Y: ty(v.Y)}, vg.Points(1.6)))
	}
	sty := draw.TextStyle{Color: color.Black, Font: plot.DefaultFont, XAlign: draw.XCenter, Handler: plot.DefaultTextHandler}
	sty.Font.Size = vg.Points(8)
	for i, l := range n.labels {
		c.FillText(sty, vg.Point{X: tx(l.X), Y: ty(l.Y)}, n.names[i])
	}
}

func circle(ctr vg.Point, r vg.Length) []vg.Point {
	pts := make([]vg.Point, 12)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / 12
		pts[i] = vg.Point{X: ctr.X + r*vg.Length(math.Cos(a)), Y: ctr.Y + r*vg.Length(math.Sin(a))}
	}
	return pts
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

func (rep *Report) networkChart() (Chart, bool, error) {
	if len(rep.clusters) == 0 {
		return Chart{}, false, nil
	}
	cs := rep.clusters[:min(len(rep.clusters), 12)]
	cols := int(math.Ceil(math.Sqrt(float64(len(cs)) * 2)))
	palette := []color.Color{colNetwork, color.RGBA{R: 0x29, G: 0x80, B: 0xb9, A: 0xff}, color.RGBA{R: 0x8e, G: 0x44, B: 0xad, A: 0xff},
		color.RGBA{R: 0xd3, G: 0x54, B: 0x00, A: 0xff}, color.RGBA{R: 0x16, G: 0xa0, B: 0x85, A: 0xff}, color.RGBA{R: 0x7f, G: 0x8c, B: 0x8d, A: 0xff}}
	n := &network{}
	for i, c := range cs {
		cx, cy := float64(i%cols)*3, -float64(i/cols)*3
		members := slices.Clone(c.Members)
		slices.Sort(members)
		pos := make(map[string]plotter.XY, len(members))
		for j, m := range members {
			a := 2 * math.Pi * float64(j) / float64(len(members))
			pos[m] = plotter.XY{X: cx + math.Cos(a), Y: cy + math.Sin(a)}
			n.nodes = append(n.nodes, pos[m])
		}
		for _, e := range c.Edges {
			a, okA := pos[e.A]
			b, okB := pos[e.B]
			if okA && okB {
				n.segs = append(n.segs, [2]plotter.XY{a, b})
				n.colors = append(n.colors, palette[i%len(palette)])
			}
		}
		n.labels = append(n.labels, plotter.XY{X: cx, Y: cy - 1.45})
		n.names = append(n.names, fmt.Sprintf("%s · %d · risk %.0f", shortID(c.ID), len(c.Members), c.Scores.Risk))
	}
	p := plot.New()
	p.Title.Text = "The day's networks (members and their strongest ties)"
	p.HideAxes()
	p.Add(n)
	rows := (len(cs) + cols - 1) / cols
	p.X.Min, p.X.Max = -1.5, float64(cols-1)*3+1.5
	p.Y.Min, p.Y.Max = -float64(rows-1)*3-1.8, 1.3
	b, err := renderPNG(p, chartW, vg.Length(math.Max(float64(chartH), float64(rows)*float64(5*vg.Centimeter))))
	return Chart{Name: "network", Title: "A picture of the network", PNG: b,
		Alt:     fmt.Sprintf("Network drawing of %d clusters", len(cs)),
		Caption: "Each circle is one cluster (ID · accounts · risk); dots are accounts, lines the co-action edges the cluster record carries."}, true, err
}

func shortID(id string) string {
	if len(id) > 10 {
		return id[:10]
	}
	return id
}
