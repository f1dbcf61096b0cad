// One mesh router's coordinate-range multicast logic module (the mesh model's cluster
// logic, models/mesh/cluster_logic.{h,cpp}, plus the output-port choice of the NoC's XY
// routing, models/mesh/noc.cpp dor_port).
//
// A control store of N entries, each a destination cluster, its neuron box and the
// connection into it (kind, stride, kernel w/h, pad, input and output space). For a firing
// element (x, y, c) and direction (forward / backward), entry i gives
//   range   = forward_range or backward_range of the connection at (x, y, c)
//   overlap = range ∩ box (hit: non-empty)
//   port    = XY dimension-order output port from this router (pos_x, pos_y) to the
//             destination cluster (id mod cols, id div cols): 0 local, 1 east (+x),
//             2 west (−x), 3 south (+y), 4 north (−y)
// and the firing's multicast port mask is the OR of 1 << port over the hitting entries.
//
// Timing (clock edges): one control entry per cycle.
//   fire_ready = !busy || (busy && idx == n_entries − 1). A firing is accepted at an edge
//   where fire_valid && fire_ready; the next n_entries edges register entry 0 … n−1's result
//   (res_valid; res_last and res_mask on the last), so a firing takes n_entries cycles
//   after its accepting edge, and a new firing can be accepted on the edge that registers
//   the previous one's last entry: back to back, n_entries cycles per firing.
//   Control-store writes (cfg_we) take one edge each and are only legal while not busy.
// Coordinates and box bounds are COORD_W-bit signed; stride/kernel/pad 8-bit unsigned
// (stride ≥ 1); the arithmetic is done in 32 bits, so intermediate values cannot wrap.
module router #(
    parameter int N = 64,        // control-store entries
    parameter int COORD_W = 16,  // coordinate / bound width (signed)
    localparam int IW = $clog2(N)
) (
    input  logic                      clk,
    input  logic                      rst,
    // control-store write port
    input  logic                      cfg_we,
    input  logic [IW-1:0]             cfg_idx,
    input  logic [15:0]               cfg_dest,
    input  logic                      cfg_conv,    // 1: conv connection, 0: full
    input  logic [7:0]                cfg_stride, cfg_kw, cfg_kh, cfg_pad,
    input  logic [COORD_W-1:0]        cfg_in_w, cfg_in_h, cfg_in_c, cfg_out_w, cfg_out_h, cfg_out_c,
    input  logic [COORD_W-1:0]        cfg_lo_x, cfg_lo_y, cfg_lo_c, cfg_hi_x, cfg_hi_y, cfg_hi_c,
    // static configuration
    input  logic [IW:0]               n_entries,   // entries in use, 1..N
    input  logic [8:0]                mesh_cols,   // clusters along X (≥ 1)
    input  logic [7:0]                pos_x, pos_y,  // this router (sampled with each firing)
    // firing
    input  logic                      fire_valid,
    input  logic                      fire_bwd,
    input  logic [COORD_W-1:0]        fire_x, fire_y, fire_c,
    output logic                      fire_ready,
    // per-entry results (registered)
    output logic                      res_valid,
    output logic                      res_last,
    output logic [IW-1:0]             res_idx,
    output logic [COORD_W-1:0]        res_lo_x, res_lo_y, res_lo_c, res_hi_x, res_hi_y, res_hi_c,
    output logic [COORD_W-1:0]        ovl_lo_x, ovl_lo_y, ovl_lo_c, ovl_hi_x, ovl_hi_y, ovl_hi_c,
    output logic                      res_hit,
    output logic [2:0]                res_port,
    output logic [4:0]                res_mask   // valid with res_last
);
  typedef struct packed {
    logic [15:0]        dest;
    logic               conv;
    logic [7:0]         stride, kw, kh, pad;
    logic [COORD_W-1:0] in_w, in_h, in_c, out_w, out_h, out_c;
    logic [COORD_W-1:0] lo_x, lo_y, lo_c, hi_x, hi_y, hi_c;
  } entry_t;

  entry_t store[N];

  // ⌊a/b⌋ and ⌈a/b⌉ for b > 0 (as cluster_logic.cpp: truncating division fixed for a < 0).
  function automatic int floor_div(int a, int b);
    return a >= 0 ? a / b : -((-a + b - 1) / b);
  endfunction
  function automatic int ceil_div(int a, int b);
    return -floor_div(-a, b);
  endfunction
  function automatic int imax(int a, int b);
    return a > b ? a : b;
  endfunction
  function automatic int imin(int a, int b);
    return a < b ? a : b;
  endfunction
  function automatic int sx(logic [COORD_W-1:0] v);  // sign-extend a coordinate
    return int'(signed'(v));
  endfunction

  // Latched firing.
  logic                 busy, f_bwd;
  logic [IW-1:0]        idx;
  int                   f_x, f_y;
  logic [7:0]           f_px, f_py;       // router position of the firing
  logic [4:0]           mask_acc;

  // Combinational evaluation of entry idx.
  entry_t e;
  int lo[3], hi[3], olo[3], ohi[3];
  logic hit;
  logic [2:0] port;
  int dx, dy;
  always_comb begin
    e = store[idx];
    if (!e.conv) begin
      lo[0] = 0; lo[1] = 0; lo[2] = 0;
      hi[0] = (f_bwd ? sx(e.in_w) : sx(e.out_w)) - 1;
      hi[1] = (f_bwd ? sx(e.in_h) : sx(e.out_h)) - 1;
      hi[2] = (f_bwd ? sx(e.in_c) : sx(e.out_c)) - 1;
    end else if (!f_bwd) begin
      lo[0] = imax(0, ceil_div(f_x + int'(e.pad) - int'(e.kw) + 1, int'(e.stride)));
      hi[0] = imin(sx(e.out_w) - 1, floor_div(f_x + int'(e.pad), int'(e.stride)));
      lo[1] = imax(0, ceil_div(f_y + int'(e.pad) - int'(e.kh) + 1, int'(e.stride)));
      hi[1] = imin(sx(e.out_h) - 1, floor_div(f_y + int'(e.pad), int'(e.stride)));
      lo[2] = 0;
      hi[2] = sx(e.out_c) - 1;
    end else begin
      lo[0] = imax(0, f_x * int'(e.stride) - int'(e.pad));
      hi[0] = imin(sx(e.in_w) - 1, f_x * int'(e.stride) - int'(e.pad) + int'(e.kw) - 1);
      lo[1] = imax(0, f_y * int'(e.stride) - int'(e.pad));
      hi[1] = imin(sx(e.in_h) - 1, f_y * int'(e.stride) - int'(e.pad) + int'(e.kh) - 1);
      lo[2] = 0;
      hi[2] = sx(e.in_c) - 1;
    end
    olo[0] = imax(lo[0], sx(e.lo_x));
    olo[1] = imax(lo[1], sx(e.lo_y));
    olo[2] = imax(lo[2], sx(e.lo_c));
    ohi[0] = imin(hi[0], sx(e.hi_x));
    ohi[1] = imin(hi[1], sx(e.hi_y));
    ohi[2] = imin(hi[2], sx(e.hi_c));
    hit = ohi[0] >= olo[0] && ohi[1] >= olo[1] && ohi[2] >= olo[2];
    dx = int'(e.dest) % int'(mesh_cols);
    dy = int'(e.dest) / int'(mesh_cols);
    if (dx > int'(f_px)) port = 3'd1;
    else if (dx < int'(f_px)) port = 3'd2;
    else if (dy > int'(f_py)) port = 3'd3;
    else if (dy < int'(f_py)) port = 3'd4;
    else port = 3'd0;
  end

  wire last = {1'b0, idx} == n_entries - 1'b1;
  assign fire_ready = !busy || last;

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      idx <= '0;
      res_valid <= 1'b0;
      res_last <= 1'b0;
      mask_acc <= '0;
    end else begin
      if (cfg_we && !busy)
        store[cfg_idx] <= '{cfg_dest, cfg_conv, cfg_stride, cfg_kw, cfg_kh, cfg_pad, cfg_in_w, cfg_in_h, cfg_in_c,
                            cfg_out_w, cfg_out_h, cfg_out_c, cfg_lo_x, cfg_lo_y, cfg_lo_c, cfg_hi_x, cfg_hi_y, cfg_hi_c};
      res_valid <= busy;
      res_last <= busy && last;
      if (busy) begin
        res_idx <= idx;
        res_lo_x <= COORD_W'(lo[0]);
        res_lo_y <= COORD_W'(lo[1]);
        res_lo_c <= COORD_W'(lo[2]);
        res_hi_x <= COORD_W'(hi[0]);
        res_hi_y <= COORD_W'(hi[1]);
        res_hi_c <= COORD_W'(hi[2]);
        ovl_lo_x <= COORD_W'(olo[0]);
        ovl_lo_y <= COORD_W'(olo[1]);
        ovl_lo_c <= COORD_W'(olo[2]);
        ovl_hi_x <= COORD_W'(ohi[0]);
        ovl_hi_y <= COORD_W'(ohi[1]);
        ovl_hi_c <= COORD_W'(ohi[2]);
        res_hit <= hit;
        res_port <= port;
        res_mask <= (idx == '0 ? 5'd0 : mask_acc) | (hit ? 5'(1) << port : 5'd0);
        mask_acc <= (idx == '0 ? 5'd0 : mask_acc) | (hit ? 5'(1) << port : 5'd0);
        idx <= last ? '0 : idx + 1'b1;
      end
      if (fire_valid && fire_ready) begin
        busy <= 1'b1;
        idx <= '0;
        f_bwd <= fire_bwd;
        f_x <= sx(fire_x);
        f_y <= sx(fire_y);
        f_px <= pos_x;
        f_py <= pos_y;
      end else if (busy && last) begin
        busy <= 1'b0;
      end
    end
  end

  // fire_c is carried for completeness: groups = 1, every channel reaches every channel.
  logic unused;
  assign unused = ^fire_c;
endmodule
