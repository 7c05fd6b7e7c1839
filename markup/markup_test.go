package markup

import (
	"fmt"
	"strings"
	"testing"
)

func TestHTML(t *testing.T) {
	for _, tt := range []struct {
		name     string
		markdown string
		want     []string // in the output
		wantNot  []string // nowhere in the output
	}{
		{"headings, lists and emphasis kept", "# Plan\n\n## Steps\n\n- one\n- *two*\n\n1. first\n2. **second**",
			[]string{"<h1>Plan</h1>", "<h2>Steps</h2>", "<ul>\n<li>one</li>\n<li><em>two</em></li>", "<ol>\n<li>first</li>", "<strong>second</strong>"}, nil},
		{"code kept and escaped", "Run `a < b`:\n\n```go\nif x < 1 {}\n```",
			[]string{"<code>a &lt; b</code>", "<pre><code", "if x &lt; 1 {}"}, nil},
		{"links kept, with rel nofollow noopener", "[the spec](https://example.org/spec) and https://bare.example/x",
			[]string{`<a href="https://example.org/spec" rel="nofollow noopener" target="_blank">the spec</a>`,
				`<a href="https://bare.example/x" rel="nofollow noopener" target="_blank">`}, nil},
		// An inline script's text may stay, as text: harmless.
		{"script tags removed", "Hello\n\n<script>alert(1)</script>\n\nand <script>alert(2)</script> inline",
			[]string{"<p>Hello</p>", "inline"}, []string{"<script", "alert(1)"}},
		{"javascript: links removed", "[click](javascript:alert(1)) <javascript:alert(2)> [x](JaVaScRiPt:alert(3))",
			[]string{"click"}, []string{"href", "<a"}},
		{"data: and relative links removed", "[a](data:text/html,hi) [b](/admin)", []string{"a", "b"}, []string{"href"}},
		{"raw HTML removed", `<div onclick="x()"><b>bold</b></div>` + "\n\ntext <img src=x onerror=alert(1)> <iframe src=https://e.example></iframe> <!-- c -->",
			[]string{"text"}, []string{"<div", "onclick", "onerror", "<iframe", "<img", "<!--", "raw HTML"}},
		{"entities stay text", "a &lt;b&gt; & c", []string{"a &lt;b&gt; &amp; c"}, []string{"<b>"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := HTML(tt.markdown)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("holds %q:\n%s", w, got)
				}
			}
		})
	}
}

func ExampleHTML() {
	fmt.Println(HTML("**Adopt** the [tool](https://tool.example) <span onclick=\"x()\">now</span>"))
	// Output:
	// <p><strong>Adopt</strong> the <a href="https://tool.example" rel="nofollow noopener" target="_blank">tool</a> now</p>
}

func TestRemote(t *testing.T) {
	in := `<p onclick="x()">Hi <a href="javascript:alert(1)">there</a> <a href="https://ok.example/">ok</a><script>alert(2)</script><img src=x onerror=y()></p>`
	got := Remote(in)
	for _, bad := range []string{"<script", "onclick", "javascript:", "onerror", "alert"} {
		if strings.Contains(got, bad) {
			t.Errorf("Remote kept %q: %s", bad, got)
		}
	}
	if !strings.Contains(got, `<a href="https://ok.example/" rel="nofollow noreferrer noopener" target="_blank">ok</a>`) {
		t.Errorf("Remote lost the link: %s", got)
	}
}
