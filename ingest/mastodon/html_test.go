package mastodon

import (
	"reflect"
	"testing"
)

func TestHTMLText(t *testing.T) {
	tests := []struct {
		name, in, text string
		links          []string
	}{
		{"empty", "", "", nil},
		{"plain", "hello", "hello", nil},
		{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo", nil},
		{"line breaks", "<p>a<br>b<br />c<br/><br/>d</p>", "a\nb\nc\n\nd", nil},
		{"entities", "<p>&lt;b&gt; &amp; &quot;q&quot; &#39;s&#39; &hellip; &#x1F600; &eacute;</p>", "<b> & \"q\" 's' … 😀 é", nil},
		{"whitespace collapses", "<p>  a \n\t b  </p>\n<p>\nc</p>", "a b\n\nc", nil},
		{"inline tags keep spaces", "<p><strong>bold</strong> and <em>em</em>.</p>", "bold and em.", nil},
		{"pre keeps whitespace", "<pre><code>a  b\n  c</code></pre>", "a  b\n  c", nil},
		{"list items", "<ul><li>one</li><li>two</li></ul><p>after</p>", "one\ntwo\n\nafter", nil},
		{"shortened link keeps its whole text",
			`<p><a href="https://example.org/a/long/path?x=1&amp;y=2" rel="nofollow noopener"><span class="invisible">https://</span><span class="ellipsis">example.org/a/lo</span><span class="invisible">ng/path?x=1&amp;y=2</span></a></p>`,
			"https://example.org/a/long/path?x=1&y=2", []string{"https://example.org/a/long/path?x=1&y=2"}},
		{"mentions and hashtags are not links",
			`<p><span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a></span> <a href="https://m.example/tags/vote" class="mention hashtag" rel="tag">#<span>vote</span></a> <a href="https://m.example/tags/x" rel="tag">#x</a></p>`,
			"@bob #vote #x", nil},
		{"non-http links ignored", `<a href="javascript:alert(1)">x</a> <a href="mailto:a@b">m</a> <a href="/relative">r</a>`, "x m r", nil},
		{"quote fallback skipped", `<p class="quote-inline">RE: <a href="https://m.example/@c/1">https://m.example/@c/1</a></p><p>mine</p>`, "mine", nil},
		{"nested quote fallback", `<div class="quote-inline"><p>RE: <b>x</b></p><p>y</p></div>z`, "z", nil},
		{"comments and doctype", "<!DOCTYPE html><!-- hidden -->a<?xml x?>b", "ab", nil},
		{"script and style", "a<script>alert('<p>x</p>')</script>b<STYLE>p{}</STYLE>c", "abc", nil},
		{"unterminated script", "a<script>x", "a", nil},
		{"stray less-than", "1 < 2 and 3 <4", "1 < 2 and 3 <4", nil},
		{"tag cut off at the end", `a<a href="https://x.example`, "a", nil},
		{"malformed end tag from the docs", `<p>a</span}</p><p>b</p>`, "a\n\nb", nil},
		{"unquoted and single-quoted attributes", `<a href=https://u.example/1 class=x>u</a> <a href='https://u.example/2'>v</a>`, "u v", []string{"https://u.example/1", "https://u.example/2"}},
		{"uppercase tags", "<P>A<BR>B</P>", "A\nB", nil},
		{"unclosed elements", "<p><b>a<p>b", "a\n\nb", nil},
		{"blockquote", "<p>x</p><blockquote><p>q</p></blockquote><p>y</p>", "x\n\nq\n\ny", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, links := htmlText(tc.in)
			if text != tc.text {
				t.Errorf("text %q, want %q", text, tc.text)
			}
			if !reflect.DeepEqual(links, tc.links) {
				t.Errorf("links %q, want %q", links, tc.links)
			}
		})
	}
}
