import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabwrite } from './tabwriter.js';
import { HEADER_FUNCTIONS, Template, TemplateObject, goJson, goPrint, goSprintf } from './template.js';

const ctr = new TemplateObject('*formatter.ContainerContext', {
  ID: () => '4f66ad7ad3a1',
  Names: () => 'web',
  Labels: () => 'a=1,b=2',
  Label: (name: string) => ({ a: '1', 'com.x': 'y' })[name] ?? '',
});
const run = (src: string, data: unknown = ctr) => Template.parse(src).execute(data);
const error = (src: string, data: unknown = ctr) => {
  try {
    run(src, data);
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail(`no error for ${src}`);
};

test('fields, methods with arguments, literals, pipes and trim markers', () => {
  assert.equal(run('{{.ID}} {{.Names}}'), '4f66ad7ad3a1 web');
  assert.equal(run('{{.Label "a"}}|{{.Label "missing"}}|{{.Label `com.x`}}'), '1||y');
  assert.equal(run('{{"lit"}} {{3}} {{true}} {{nil}}'), 'lit 3 true <nil>');
  assert.equal(run('{{.Names | upper | printf "%-5s|"}}'), 'WEB  |');
  assert.equal(run('a  {{- .Names -}}  b'), 'awebb');
  assert.equal(run('{{/* a comment */}}x'), 'x');
  assert.equal(run('{{(.Names)}} {{len .Labels}}'), 'web 7');
  assert.equal(run('{{"a\\tb\\u00e9"}}'), 'a\tbé');
});

test("docker's functions: json, split, join, title, lower, upper, pad, truncate", () => {
  assert.equal(run('{{json .Names}}'), '"web"');
  assert.equal(run('{{join (split .Labels ",") ";"}}'), 'a=1;b=2');
  assert.equal(run('{{title "hello world"}} {{lower "AB"}} {{upper "ab"}}'), 'Hello World ab AB');
  assert.equal(run('[{{pad .Names 1 2}}][{{pad "" 1 2}}]'), '[ web  ][]');
  assert.equal(run('{{truncate .ID 4}} {{truncate "ab" 5}}'), '4f66 ab');
  assert.equal(run('{{json "<a&b>"}}'), '"<a&b>"', 'the json function does not escape HTML');
});

test('if/else if/else, with, range over lists and maps, variables', () => {
  assert.equal(run('{{if eq .Names "web"}}yes{{else}}no{{end}}'), 'yes');
  assert.equal(run('{{if eq .Names "db"}}db{{else if eq .Names "web"}}w{{else}}?{{end}}'), 'w');
  assert.equal(run('{{if not .Names}}empty{{end}}{{with .ID}}<{{.}}>{{end}}'), '<4f66ad7ad3a1>');
  assert.equal(run('{{range split .Labels ","}}[{{.}}]{{end}}'), '[a=1][b=2]');
  assert.equal(run('{{range $i, $e := split .Labels ","}}{{$i}}:{{$e}} {{end}}'), '0:a=1 1:b=2 ');
  const m = { b: '2', a: '1' };
  assert.equal(run('{{range $k, $v := .}}{{$k}}={{$v}};{{end}}', m), 'a=1;b=2;', 'maps range in key order');
  assert.equal(run('{{$n := .Names}}{{$n}}-{{$.ID}}'), 'web-4f66ad7ad3a1');
  assert.equal(run('{{$x := "v"}}{{$x}}'), 'v');
  assert.equal(run('{{range split "" ","}}x{{else}}none{{end}}'), 'x');
  assert.equal(run('{{range .}}x{{else}}none{{end}}', []), 'none');
  assert.equal(run('{{and 1 0}} {{or 0 "b"}} {{ne 1 2}} {{lt 1 2}} {{index . "a"}}', m), '0 b true true 1');
});

test('maps print like Go and missing keys print <no value>', () => {
  const attrs = { name: 'web', image: 'busybox' };
  assert.equal(run('{{.name}} {{.nope}}', attrs), 'web <no value>');
  assert.equal(run('{{.}}', attrs), 'map[image:busybox name:web]');
  assert.equal(goPrint(['a', 'b']), '[a b]');
  assert.equal(goJson({ b: 1, a: '<x>' }, true), '{"a":"\\u003cx\\u003e","b":1}');
  assert.equal(goJson(1795887790973557373n), '1795887790973557373');
  assert.equal(goSprintf('%s=%d %q %%', ['a', 3, 'x"y']), 'a=3 "x\\"y" %');
});

test('parse errors read like Go: unknown functions, bad characters, unclosed actions, stray end', () => {
  assert.equal(error('{{foo .}}'), 'template: :1: function "foo" not defined');
  assert.equal(error('{{.Names}'), "template: :1: bad character U+007D '}'");
  assert.equal(error('{{.Names'), 'template: :1: unclosed action');
  assert.equal(error('{{end}}'), 'template: :1: unexpected {{end}}');
  assert.equal(error('{{if .ID}}x'), 'template: :1: unexpected EOF');
  assert.equal(error('a\n{{bar}}'), 'template: :2: function "bar" not defined');
  assert.equal(error('{{$y}}'), 'template: :1: undefined variable "$y"');
  assert.match(error('{{define "x"}}{{end}}'), /not supported/);
});

test('execution errors name the field and the Go type, with line and column', () => {
  assert.equal(error('{{.Foo}}'), 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext');
  assert.equal(error('ab {{.ID.X}}'), 'template: :1:5: executing "" at <.ID.X>: can\'t evaluate field X in type string');
  assert.equal(error('{{.Label}}'), 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0');
  assert.equal(error('{{.ID "x"}}'), 'template: :1:2: executing "" at <.ID>: ID is not a method but has arguments');
  assert.equal(error('{{pad .Names "x" 1}}'), 'template: :1:2: executing "" at <pad>: wrong type for value; expected int; got string');
  assert.equal(error('{{upper}}'), 'template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0');
  assert.match(error('{{index . 5}}', ['a']), /error calling index: index out of range: 5/);
});

test('header functions keep column names (docker table headers)', () => {
  const header = new TemplateObject('formatter.SubHeaderContext', { Names: () => 'NAMES' }, { missingAsNoValue: true });
  const t = Template.parse('{{json .Names}}\t{{upper .Names}}\t{{truncate .Names 2}}\t{{.Other}}');
  assert.equal(t.execute(header, HEADER_FUNCTIONS), 'NAMES\tNAMES\tNAMES\t<no value>');
});

test('tabwrite aligns tab-terminated cells like Go tabwriter (minwidth 10, padding 3)', () => {
  assert.equal(
    tabwrite('NAMES\tSTATUS\tz\tLABELS\nex\tExited (3) Less than a second ago\t\t\nweb\tUp 1 second\t2\ta=1\n'),
    'NAMES     STATUS                              z         LABELS\n' +
      'ex        Exited (3) Less than a second ago             \n' +
      'web       Up 1 second                         2         a=1\n',
  );
  // a line with fewer cells ends the column block; characters, not bytes, count
  assert.equal(tabwrite('a\tb\nlonger-line\nxx\té\n'), 'a         b\nlonger-line\nxx        é\n');
  assert.equal(tabwrite('no tabs\n'), 'no tabs\n');
});
