/* keys: the binding table of view mode (see keys.h). */
#include "config.h"
#include "tui/keys.h"

#include <curses.h>
#include <stddef.h>

#define CTRL_KEY(c) ((c)&0x1f)

const tui_binding tui_bindings[] = {
	{{'c'}, "c", "calib_next", "next calibration method", "quantizer"},
	{{'C'}, "C", "calib_prev", "previous calibration method", "quantizer"},
	{{'f'}, "f", "format_next", "next format (int, uint, ...)", "quantizer"},
	{{'F'}, "F", "format_prev", "previous format", "quantizer"},
	{{'+', '='}, "+", "bits_up", "one bit more", "quantizer"},
	{{'-', '_'}, "-", "bits_down", "one bit less", "quantizer"},
	{{'s'}, "s", "scheme_toggle", "symmetric / asymmetric", "quantizer"},
	{{'N'}, "N", "narrow_toggle", "narrow symmetric range on/off", "quantizer"},
	{{'g'}, "g", "granularity_next", "per tensor / channel / group", "quantizer"},
	{{'a'}, "a", "axis_next", "next channel axis", "quantizer"},
	{{']'}, "]", "group_larger", "double the group size", "quantizer"},
	{{'['}, "[", "group_smaller", "halve the group size", "quantizer"},
	{{'r'}, "r", "rounding_next", "next rounding rule", "quantizer"},
	{{'R'}, "R", "rounding_prev", "previous rounding rule", "quantizer"},
	{{KEY_LEFT}, "Left", "lo_left", "move lo left (clip by hand)", "clipping"},
	{{KEY_RIGHT}, "Right", "lo_right", "move lo right", "clipping"},
	{{KEY_UP}, "Up", "hi_right", "move hi right", "clipping"},
	{{KEY_DOWN}, "Down", "hi_left", "move hi left", "clipping"},
	{{'<'}, "<", "range_shrink", "narrow both ends", "clipping"},
	{{'>'}, ">", "range_grow", "widen both ends", "clipping"},
	{{'0', KEY_BACKSPACE}, "0", "range_reset", "back to the calibrated range", "clipping"},
	{{'n'}, "n", "tensor_next", "next tensor", "view"},
	{{'p'}, "p", "tensor_prev", "previous tensor", "view"},
	{{'l'}, "l", "log_toggle", "log / linear counts", "view"},
	{{'z'}, "z", "zoom_in", "zoom the histogram in", "view"},
	{{'Z'}, "Z", "zoom_out", "zoom out", "view"},
	{{'w'}, "w", "zoom_reset", "whole range", "view"},
	{{','}, ",", "pan_left", "pan left", "view"},
	{{'.'}, ".", "pan_right", "pan right", "view"},
	{{'v'}, "v", "view_toggle", "compare table / channels", "view"},
	{{'j'}, "j", "list_down", "scroll the table down", "view"},
	{{'k'}, "k", "list_up", "scroll the table up", "view"},
	{{KEY_NPAGE}, "PgDn", "output_down", "scroll the output down", "view"},
	{{KEY_PPAGE}, "PgUp", "output_up", "scroll the output up", "view"},
	{{'t'}, "t", "terminal_next", "plot with: native, gnuplot...", "view"},
	{{'P'}, "P", "plot_save", "save the plot (png/svg/pdf)", "files"},
	{{'S'}, "S", "tensor_save", "save the quantized tensor (.npy)", "files"},
	{{':', '\n', '\r', '\t'}, ": Tab Enter", "command", "type Lua (Esc comes back)", "other"},
	{{'?', KEY_F(1)}, "? F1", "help", "this help", "other"},
	{{CTRL_KEY('l')}, "^L", "redraw", "redraw the screen", "other"},
	{{'q'}, "q", "quit", "quit", "other"},
	{{0}, NULL, NULL, NULL, NULL}};

const tui_help_line tui_help[] = {
	{"c C", "calibration method", "quantizer"},
	{"f F", "format (int, uint, ...)", "quantizer"},
	{"+ -", "bit width", "quantizer"},
	{"s", "symmetric / asymmetric", "quantizer"},
	{"N", "narrow symmetric range", "quantizer"},
	{"g", "per tensor/channel/group", "quantizer"},
	{"a", "channel axis", "quantizer"},
	{"[ ]", "group size", "quantizer"},
	{"r R", "rounding rule", "quantizer"},
	{"\u2190 \u2192", "move lo (clip by hand)", "clipping"},
	{"\u2193 \u2191", "move hi", "clipping"},
	{"< >", "narrow / widen both ends", "clipping"},
	{"0", "the calibrated range again", "clipping"},
	{"n p", "next / previous tensor", "view"},
	{"l", "log / linear counts", "view"},
	{"z Z w", "zoom in / out / whole", "view"},
	{", .", "pan left / right", "view"},
	{"v", "compare table / channels", "view"},
	{"j k", "scroll the table", "view"},
	{"PgUp PgDn", "scroll the output", "view"},
	{"t", "plot renderer", "view"},
	{"P", "save the plot (png/svg/pdf)", "files"},
	{"S", "save the tensor (.npy)", "files"},
	{": Tab", "Lua prompt (Esc: back)", "other"},
	{"? F1", "this help", "other"},
	{"^L", "redraw", "other"},
	{"q", "quit", "other"},
	{NULL, NULL, NULL}};

const tui_binding *tui_binding_for(int code)
{
	for (const tui_binding *b = tui_bindings; b->action; b++)
		for (int i = 0; i < 4 && b->codes[i]; i++)
			if (b->codes[i] == code)
				return b;
	return NULL;
}

const qs_ui_key *tui_ui_keys(void)
{
	static qs_ui_key keys[sizeof tui_bindings / sizeof tui_bindings[0]];
	if (!keys[0].action) {
		size_t n = 0;
		for (const tui_binding *b = tui_bindings; b->action; b++) {
			keys[n].keys = b->label;
			keys[n].action = b->action;
			keys[n].help = b->help;
			n++;
		}
	}
	return keys;
}
