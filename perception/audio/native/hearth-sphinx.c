/*
 * hearth-sphinx: one PocketSphinx decoder that stays loaded, driven over stdin/stdout by
 * perception/audio/sphinx-decoder.ts. Built by perception/audio/native/build.sh against Debian's
 * libpocketsphinx (0.8+5prealpha); run as a child process so that a crash in the library never takes
 * the runtime with it (the Node side restarts it).
 *
 * Usage: hearth-sphinx [pocketsphinx options…]   e.g. -hmm DIR -dict FILE [-lm FILE] -logfn /dev/null
 *
 * Input, one message after another: a type byte, a little-endian uint32 payload length, the payload.
 *   'V' words separated by spaces         → {"ok":true,"missing":[…]}  (words not in the dictionary)
 *   'G' name NUL JSGF text                → {"ok":true}                 (adds or replaces a grammar search)
 *   'S' search name (empty: the current)  → {"ok":true}                 (starts an utterance)
 *   'A' s16le 16 kHz mono samples         → nothing                     (decoded as it arrives)
 *   'U' s16le samples of a whole utterance → nothing                    (one block: normalised over the utterance)
 *   'C' float32 cepstra, ceplen per frame → nothing                     (feature files: tidigits test data)
 *   'M' path NUL weight                   → {"ok":true}                 (open speech: the -lm model interpolated with
 *                                                                        the one in path, ARPA or binary, at weight 0..1)
 *   'E' uint32 n-best count               → the result of the utterance (final search, words, n-best)
 *   'X'                                   → {"ok":true}                 (abandons the utterance)
 *   'Q'                                   → exits
 * Every reply is one JSON line on stdout. A failure is {"ok":false,"error":"…"}; the decoder goes on.
 */
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ps_decoder_t *ps;
static int in_utt = 0;
static int feed_error = 0;
static int ceplen = 13;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static void json_str(FILE *o, const char *s) {
  fputc('"', o);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(o, "\\%c", c);
    else if (c < 0x20) fprintf(o, "\\u%04x", c);
    else fputc(c, o);
  }
  fputc('"', o);
}

static void reply_ok(void) {
  fputs("{\"ok\":true}\n", stdout);
  fflush(stdout);
}

static void reply_error(const char *what, const char *detail) {
  fputs("{\"ok\":false,\"error\":", stdout);
  char buf[512];
  snprintf(buf, sizeof buf, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
  json_str(stdout, buf);
  fputs("}\n", stdout);
  fflush(stdout);
}

static int read_exact(void *buf, size_t n) {
  return fread(buf, 1, n, stdin) == n;
}

static void cmd_vocab(char *words) {
  fputs("{\"ok\":true,\"missing\":[", stdout);
  int first = 1;
  for (char *w = strtok(words, " \n\t"); w; w = strtok(NULL, " \n\t")) {
    char *pron = ps_lookup_word(ps, w);
    if (pron) { free(pron); continue; }
    if (!first) fputc(',', stdout);
    json_str(stdout, w);
    first = 0;
  }
  fputs("]}\n", stdout);
  fflush(stdout);
}

static void cmd_grammar(char *payload, uint32_t len) {
  size_t nlen = strnlen(payload, len);
  if (nlen == 0 || nlen >= len) { reply_error("grammar", "expected a name, a NUL and JSGF text"); return; }
  const char *name = payload;
  const char *jsgf = payload + nlen + 1;
  if (in_utt) { reply_error("grammar", "an utterance is in progress"); return; }
  if (ps_set_jsgf_string(ps, name, jsgf) < 0) { reply_error("grammar rejected by pocketsphinx (a word missing from the dictionary, or a syntax error)", name); return; }
  reply_ok();
}

/* The -lm model as loaded: what every 'M' interpolates with (kept, so a second 'M' replaces the first). */
static ngram_model_t *general_lm = NULL;

static void cmd_mix(char *buf, uint32_t len) {
  size_t n = strlen(buf);
  if (n == 0 || n + 1 >= len) { reply_error("mix: expected a path, NUL, a weight", NULL); return; }
  float32 w = (float32)atof(buf + n + 1);
  if (!(w > 0 && w < 1)) { reply_error("mix: the weight must be above 0 and below 1", buf + n + 1); return; }
  if (!general_lm) {
    general_lm = ps_get_lm(ps, "_default");
    if (!general_lm) { reply_error("mix: there is no open-speech language model (-lm)", NULL); return; }
    ngram_model_retain(general_lm);
  }
  cmd_ln_t *config = ps_get_config(ps);
  ngram_model_t *adapted = ngram_model_read(config, buf, NGRAM_AUTO, logmath_retain(ps_get_logmath(ps)));
  if (!adapted) { reply_error("mix: cannot read the language model", buf); return; }
  ngram_model_t *models[2] = { ngram_model_retain(general_lm), adapted };
  char *names[2] = { "general", "adapted" };
  float32 weights[2] = { 1 - w, w };
  ngram_model_t *set = ngram_model_set_init(config, models, names, weights, 2);
  if (!set) { reply_error("mix: cannot combine the language models", buf); return; }
  if (ps_set_lm(ps, "_default", set) < 0 || ps_set_search(ps, "_default") < 0) { reply_error("mix: cannot use the combined model", buf); return; }
  reply_ok();
}

static void cmd_start(const char *name) {
  if (in_utt) { ps_end_utt(ps); in_utt = 0; }
  if (*name && ps_set_search(ps, name) < 0) { reply_error("no such search", name); return; }
  if (ps_start_utt(ps) < 0) { reply_error("could not start an utterance", NULL); return; }
  in_utt = 1;
  feed_error = 0;
  reply_ok();
}

static void cmd_audio(const char *payload, uint32_t len, int full_utt) {
  if (!in_utt || feed_error) return;
  if (ps_process_raw(ps, (const int16 *)payload, len / 2, FALSE, full_utt) < 0) feed_error = 1;
}

static void cmd_cep(const char *payload, uint32_t len) {
  if (!in_utt || feed_error) return;
  int n = (int)(len / (sizeof(float) * ceplen));
  if (n == 0) return;
  mfcc_t **frames = malloc(sizeof(mfcc_t *) * n);
  mfcc_t *data = malloc(sizeof(mfcc_t) * n * ceplen);
  const float *src = (const float *)payload;
  for (int i = 0; i < n; i++) {
    frames[i] = data + i * ceplen;
    for (int j = 0; j < ceplen; j++) frames[i][j] = (mfcc_t)src[i * ceplen + j];
  }
  if (ps_process_cep(ps, frames, n, FALSE, FALSE) < 0) feed_error = 1;
  free(data);
  free(frames);
}

static void cmd_end(uint32_t nbest) {
  if (!in_utt) { reply_error("no utterance in progress", NULL); return; }
  double t0 = now_ms();
  int rc = ps_end_utt(ps);
  in_utt = 0;
  double t1 = now_ms();
  if (rc < 0 || feed_error) { reply_error("decoding failed", feed_error ? "the audio could not be processed" : "ps_end_utt"); return; }
  logmath_t *lmath = ps_get_logmath(ps);
  int32 score = 0;
  const char *hyp = ps_get_hyp(ps, &score);
  int32 prob = hyp ? ps_get_prob(ps) : 0;
  fputs("{\"ok\":true,\"hyp\":", stdout);
  json_str(stdout, hyp ? hyp : "");
  fprintf(stdout, ",\"score\":%d,\"prob\":%.6f,\"frames\":%d,\"words\":[", score, hyp ? logmath_exp(lmath, prob) : 0.0, ps_get_n_frames(ps));
  int first = 1;
  for (ps_seg_t *seg = hyp ? ps_seg_iter(ps) : NULL; seg; seg = ps_seg_next(seg)) {
    int sf, ef;
    int32 ascr = 0, lscr = 0, lback = 0;
    ps_seg_frames(seg, &sf, &ef);
    int32 post = ps_seg_prob(seg, &ascr, &lscr, &lback);
    if (!first) fputc(',', stdout);
    first = 0;
    fputs("{\"w\":", stdout);
    json_str(stdout, ps_seg_word(seg));
    fprintf(stdout, ",\"sf\":%d,\"ef\":%d,\"p\":%.6f,\"ascr\":%d,\"lscr\":%d}", sf, ef, logmath_exp(lmath, post), ascr, lscr);
  }
  fputs("],\"nbest\":[", stdout);
  if (hyp && nbest > 0) {
    uint32_t n = 0;
    ps_nbest_t *nb = ps_nbest(ps);
    for (; nb && n < nbest; nb = ps_nbest_next(nb)) {
      int32 s = 0;
      const char *h = ps_nbest_hyp(nb, &s);
      if (!h) continue;
      if (n) fputc(',', stdout);
      fputs("{\"hyp\":", stdout);
      json_str(stdout, h);
      fprintf(stdout, ",\"score\":%d}", s);
      n++;
    }
    if (nb) ps_nbest_free(nb);
  }
  fprintf(stdout, "],\"finalMs\":%.2f,\"resultMs\":%.2f}\n", t1 - t0, now_ms() - t1);
  fflush(stdout);
}

int main(int argc, char *argv[]) {
  cmd_ln_t *config = cmd_ln_parse_r(NULL, ps_args(), argc - 1, argv + 1, TRUE);
  if (!config) { reply_error("bad pocketsphinx options", NULL); return 2; }
  ps = ps_init(config);
  if (!ps) { reply_error("pocketsphinx could not load the model (check -hmm, -dict and -lm)", NULL); return 3; }
  ceplen = cmd_ln_int32_r(config, "-ceplen");
  /* The Node side waits for this line: the model is loaded. */
  fputs("{\"ok\":true,\"ready\":true}\n", stdout);
  fflush(stdout);
  char *buf = NULL;
  size_t cap = 0;
  for (;;) {
    unsigned char head[5];
    if (!read_exact(head, 5)) break;
    uint32_t len = head[1] | (head[2] << 8) | (head[3] << 16) | ((uint32_t)head[4] << 24);
    if (len + 1 > cap) {
      cap = len + 1;
      buf = realloc(buf, cap);
      if (!buf) { reply_error("out of memory", NULL); return 4; }
    }
    if (len && !read_exact(buf, len)) break;
    buf[len] = 0;
    switch (head[0]) {
      case 'V': cmd_vocab(buf); break;
      case 'G': cmd_grammar(buf, len); break;
      case 'S': cmd_start(buf); break;
      case 'A': cmd_audio(buf, len, FALSE); break;
      case 'U': cmd_audio(buf, len, TRUE); break;
      case 'C': cmd_cep(buf, len); break;
      case 'M': cmd_mix(buf, len); break;
      case 'E': cmd_end(len >= 4 ? (uint32_t)(unsigned char)buf[0] | ((uint32_t)(unsigned char)buf[1] << 8) | ((uint32_t)(unsigned char)buf[2] << 16) | ((uint32_t)(unsigned char)buf[3] << 24) : 0); break;
      case 'X': if (in_utt) { ps_end_utt(ps); in_utt = 0; } reply_ok(); break;
      case 'Q': free(buf); ps_free(ps); cmd_ln_free_r(config); return 0;
      default: reply_error("unknown message type", NULL); break;
    }
  }
  free(buf);
  ps_free(ps);
  cmd_ln_free_r(config);
  return 0;
}
