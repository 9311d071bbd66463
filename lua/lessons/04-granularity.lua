-- Lesson 4: one scale, or one per channel or group.
return {
  title = "Granularity: per tensor, per channel, per group",
  run = function(L)
    L.say[[
A convolution weight whose output channels differ in scale by up to 100x
(as after folding batch norm).  One scale for the tensor is set by the
widest channel: the narrow channels get only a level or two.  One scale per
output channel (axis 0) fixes that for 32 extra float32 numbers.]]
    L.tensor("c", "conv_weight.npy")
    L.show('qs.format_table(qs.sweep{tensors = c, format = "int4", granularity = {"tensor", "channel"}, progress = false}, {"granularity", "storage_bits", "sqnr_db", "mse"})')
    L.look("storage_bits: the scales' cost in bits per weight, SQNR: what they buy")
    L.say[[

Per-group scales (G consecutive values along the last axis) go further on
the linear weight, whose outliers are columns:]]
    L.tensor("w", "linear_weight.npy")
    L.show('qs.format_table(qs.sweep{tensors = w, format = "int4", specs = {{format = "int4"}, {format = "int4", granularity = "channel"}, {format = "int4", group = 128}, {format = "int4", group = 32}}, progress = false}, {"granularity", "group", "storage_bits", "sqnr_db"})')
    L.view{format = "int4", granularity = "channel"}
    L.look("in the workbench, g switches the granularity and v shows the channels pane")
  end,
}
