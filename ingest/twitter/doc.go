// Package twitter reads Twitter/X data as Vigie posts: API v1.1 tweet
// files (streaming captures, twarc1), the v1.1 filter stream, API v2
// responses and twarc2 files, and the platform's information-operations
// archive CSVs. Every reader is an ingest.Source whose posts are
// normalised (ingest.Normalise) and valid (post.Validate), and whose bad
// records come back as *ingest.RecordError naming the file, the line and
// the field.
//
// The mapping is the same for every format, so that a network seen through
// the stream and through an archive gives the same edges:
//
//   - ID is the tweet's id_str (v2: id; archives: tweetid), Author the
//     user's.
//   - Time is timestamp_ms when a v1.1 record has it (milliseconds), else
//     created_at (v1.1: seconds; v2: milliseconds); the archives' tweet_time
//     is to the minute.
//   - Text is the full text (extended_tweet.full_text, full_text,
//     note_tweet.text), with the three HTML entities Twitter escapes
//     (&amp; &lt; &gt;) decoded.
//   - Mentions are screen names, lower-cased (Normalise folds them): they
//     are what the bundled scenario and the other platforms use, and what an
//     analyst reads in a cluster's top objects. The information-operations
//     archives carry only user IDs in user_mentions, so there mentions are
//     IDs.
//   - A retweet carries RepostOf and the original's text ("RT @name: "
//     and the full original text), hashtags and mentions, but not the
//     original's URLs, media or quote: the graph counts a shared URL as a
//     co-link, and copying the original's links into every retweet would
//     make each retweet a link share as well as a repost. This is the
//     convention of the bundled scenario.
//   - URLs are the expanded_url of every URL and media entity (the t.co
//     link when no expanded form is given). A media entity's expanded_url
//     is the photo page of the tweet that first uploaded it, so accounts
//     re-attaching the same upload share that URL.
//   - MediaHashes stay empty: no format carries image bytes.
//   - Lang "und" (undetermined) becomes empty, so language detection may
//     fill it.
//   - Account is the author's profile as the record gives it. Its
//     ObservedAt is when that profile was seen: the tweet's time for v1.1
//     (a streamed tweet embeds the profile of that moment); twarc2's
//     retrieved_at for v2 when present (v2 expansions are the profiles at
//     retrieval), else the tweet's time; zero for the archives, whose
//     profiles date from the suspension (the store then uses the post's
//     time).
package twitter
