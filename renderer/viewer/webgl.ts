// Runs in the renderer. The WebGL2 image view: stored values live in an R32F texture uploaded
// once; the fragment shader applies the modality LUT, VOI and MONOCHROME1 inversion, then blends
// the CAM (bilinear, colour-mapped, thresholded, filled or as iso-lines). Window/level, zoom, pan,
// rotation and flips are uniform changes; only a new colormap re-uploads its 256-entry ramp.
//
// The fragment shader is compiled per combination of grey/colour, VOI shape and heatmap mode
// (#if, not uniform branches): software rasterisers (SwiftShader) run every instruction of a
// shader whatever a uniform says, and the full shader cost a window/level drag three times the
// plain grey path (measured: ~68 ms against ~23 ms a frame on 850 × 753 device pixels).
import type { CamMap } from '../../preload/api';
import { ApiError } from '../api/errors';
import { buildRamp, COLORMAPS, RAMP_SIZE, type Colormap } from './colormap';
import type { ViewImage } from './pixels';
import { texelScale } from './progressive';
import { BACKGROUND, type DrawParams, type ImageRenderer } from './renderer';
import { voiAffine, type VoiAffine } from './voi';

/** Width, in CAM units, of the fade-in just above the threshold. */
const EDGE = '0.04';

/** Iso-lines drawn in contour mode: the threshold and two levels between it and the peak. */
const CONTOUR_LEVELS = 3;

/** What one compiled program does; each is a separate shader, so none pays for the others. */
export interface Variant {
  rgb: boolean;
  voi: VoiAffine['shape'];
  cam: 'none' | 'fill' | 'contour';
}

const VOI_CODE: Record<VoiAffine['shape'], number> = { linear: 0, step: 1, sigmoid: 2 };
const CAM_CODE: Record<Variant['cam'], number> = { none: 0, fill: 1, contour: 2 };

export const variantKey = (v: Variant): string => `${v.rgb ? 'rgb' : 'grey'}|${v.voi}|${v.cam}`;

const VERTEX = `#version 300 es
uniform mat3 u_matrix;       // image pixels → clip space
uniform vec2 u_imageSize;
out vec2 v_uv;
void main() {
  // A four-vertex strip from gl_VertexID: no buffers to keep.
  vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
  v_uv = corner;
  gl_Position = vec4((u_matrix * vec3(corner * u_imageSize, 1.0)).xy, 0.0, 1.0);
}`;

/** The fragment shader of one variant: the #defines choose the code compiled in. */
export function fragmentSource(v: Variant): string {
  return `#version 300 es
#define RGB ${v.rgb ? 1 : 0}
#define VOI_FN ${VOI_CODE[v.voi]}
#define CAM ${CAM_CODE[v.cam]}
precision highp float;
precision highp sampler2D;
in vec2 v_uv;
out vec4 outColor;

uniform sampler2D u_image;   // R32F stored values, or RGBA8 colour
uniform float u_voiA;        // VOI with the modality LUT folded in: see voiAffine in voi.ts
uniform float u_voiB;
uniform float u_invert;      // 1 inverts (MONOCHROME1, or the reader's invert), 0 does not

#if CAM != 0
uniform sampler2D u_cam;     // R32F, values 0..1, fetched by texel
uniform ivec2 u_camSize;
uniform vec2 u_imageSize;
uniform vec4 u_camExtent;    // the rectangle (image pixels) the CAM grid covers: x0, y0, x1, y1
uniform sampler2D u_ramp;    // 256 x 1 RGBA8
uniform float u_opacity;
uniform float u_threshold;
#endif

// DICOM PS3.3 C.11.2.1.2.1 and C.11.2.1.3 of a stored value, as one multiply-add; LINEAR's width
// 1 is a threshold.
float voi(float x) {
  float t = x * u_voiA + u_voiB;
#if VOI_FN == 2
  return 1.0 / (1.0 + exp(t));
#elif VOI_FN == 1
  return t > 0.0 ? 1.0 : 0.0;
#else
  return clamp(t, 0.0, 1.0);
#endif
}

#if CAM != 0
// Bilinear with texel centres at (i + 0.5) / n, edges clamped: the usual half-pixel resize.
// Done by hand so float textures need no filtering extension.
float camAt(vec2 uv) {
  vec2 p = uv * vec2(u_camSize) - 0.5;
  vec2 f = fract(p);
  ivec2 hi = u_camSize - 1;
  ivec2 a = clamp(ivec2(floor(p)), ivec2(0), hi);
  ivec2 b = clamp(ivec2(floor(p)) + 1, ivec2(0), hi);
  float v00 = texelFetch(u_cam, ivec2(a.x, a.y), 0).r;
  float v10 = texelFetch(u_cam, ivec2(b.x, a.y), 0).r;
  float v01 = texelFetch(u_cam, ivec2(a.x, b.y), 0).r;
  float v11 = texelFetch(u_cam, ivec2(b.x, b.y), 0).r;
  return mix(mix(v00, v10, f.x), mix(v01, v11, f.x), f.y);
}
#endif

void main() {
  // Nearest texel by hand: the same texel NEAREST filtering picks, without the sampler's work.
  ivec2 size = textureSize(u_image, 0);
  ivec2 texel = min(ivec2(v_uv * vec2(size)), size - 1);
#if RGB
  vec3 c = texelFetch(u_image, texel, 0).rgb * 255.0;
  vec3 color = vec3(voi(c.r), voi(c.g), voi(c.b));
#else
  // |invert − y| is y or 1 − y without a branch.
  vec3 color = vec3(abs(u_invert - voi(texelFetch(u_image, texel, 0).r)));
#endif
#if CAM != 0
  // Where this image point falls on the CAM grid (which may extend over letterbox padding).
  vec2 camUv = (v_uv * u_imageSize - u_camExtent.xy) / (u_camExtent.zw - u_camExtent.xy);
  bool onCam = all(greaterThanEqual(camUv, vec2(0.0))) && all(lessThanEqual(camUv, vec2(1.0)));
  float v = camAt(clamp(camUv, 0.0, 1.0));
#endif
#if CAM == 2
  float dv = fwidth(v);
  for (int k = 0; k < ${CONTOUR_LEVELS}; k++) {
    float level = max(u_threshold, 0.02) + (1.0 - max(u_threshold, 0.02)) * float(k) / float(${CONTOUR_LEVELS});
    float line = onCam ? 1.0 - smoothstep(0.0, 1.5 * dv + 1e-6, abs(v - level)) : 0.0;
    vec3 heat = texture(u_ramp, vec2((level * float(${RAMP_SIZE - 1}) + 0.5) / float(${RAMP_SIZE}), 0.5)).rgb;
    // Lines are thin, so they keep at least three quarters' strength whatever the opacity.
    color = mix(color, heat, max(u_opacity, 0.75) * line);
  }
#elif CAM == 1
  if (onCam && v >= u_threshold && v > 0.0) {
    vec3 heat = texture(u_ramp, vec2((v * float(${RAMP_SIZE - 1}) + 0.5) / float(${RAMP_SIZE}), 0.5)).rgb;
    // A short ramp above the threshold softens the cut edge without showing values below it.
    float edge = smoothstep(u_threshold, u_threshold + ${EDGE}, v);
    color = mix(color, heat, u_opacity * edge);
  }
#endif
  outColor = vec4(color, 1.0);
}`;
}

const UNIFORMS = [
  'u_matrix',
  'u_image',
  'u_voiA',
  'u_voiB',
  'u_invert',
  'u_cam',
  'u_camSize',
  'u_imageSize',
  'u_camExtent',
  'u_ramp',
  'u_opacity',
  'u_threshold',
] as const;
type UniformName = (typeof UNIFORMS)[number];

interface Program {
  program: WebGLProgram;
  loc: Record<UniformName, WebGLUniformLocation | null>;
}

/** Halvings kept for a shrunken view; three take a 4K detector to under 300 texels a side. */
const MAX_LEVEL = 3;

/**
 * One box-filtered halving of grey stored values (odd edges average what is there). A view that
 * shrinks the image below half size samples a halving instead of every n-th pixel, so fine
 * periodic detail (a CR's anti-scatter grid lines) does not alias into moiré.
 */
interface Level {
  values: Float32Array;
  width: number;
  height: number;
}

export function halve(values: Float32Array, width: number, height: number): Level {
  const w = Math.ceil(width / 2);
  const h = Math.ceil(height / 2);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = 2 * y;
    const y1 = Math.min(y0 + 1, height - 1);
    for (let x = 0; x < w; x++) {
      const x0 = 2 * x;
      const x1 = Math.min(x0 + 1, width - 1);
      out[y * w + x] =
        ((values[y0 * width + x0] as number) + (values[y0 * width + x1] as number) + (values[y1 * width + x0] as number) + (values[y1 * width + x1] as number)) / 4;
    }
  }
  return { values: out, width: w, height: h };
}

interface GpuState {
  /** Compiled when a draw first needs them, by variantKey. */
  programs: Map<string, Program>;
  vao: WebGLVertexArrayObject;
  image: WebGLTexture | null;
  /** levels[k] is the image halved k + 1 times; made when a view first needs it. */
  levels: WebGLTexture[];
  cam: WebGLTexture | null;
  ramp: WebGLTexture;
  rampColormap: Colormap;
}

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error('createShader failed');
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(shader) ?? ''}`);
  return shader;
}

function link(gl: WebGL2RenderingContext, variant: Variant): Program {
  const program = gl.createProgram();
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragmentSource(variant)));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`program: ${gl.getProgramInfoLog(program) ?? ''}`);
  return { program, loc: Object.fromEntries(UNIFORMS.map((n) => [n, gl.getUniformLocation(program, n)])) as Program['loc'] };
}

function texture(gl: WebGL2RenderingContext, filter: number): WebGLTexture {
  const tex = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  return tex;
}

export class WebGLRenderer implements ImageRenderer {
  readonly kind = 'webgl2' as const;
  private gpu: GpuState | null = null;
  private image: ViewImage | null = null;
  /** CPU copies of the halvings, kept so a lost context gets them back without recomputing. */
  private levelData: Level[] = [];
  private cam: CamMap | null = null;

  private readonly onLost = (e: Event) => {
    // Without preventDefault the context never comes back.
    e.preventDefault();
    this.gpu = null;
  };
  private readonly onRestored = () => {
    this.init();
    this.uploadImage();
    this.uploadCam();
  };

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly gl: WebGL2RenderingContext,
  ) {
    canvas.addEventListener('webglcontextlost', this.onLost);
    canvas.addEventListener('webglcontextrestored', this.onRestored);
    this.init();
  }

  /** Null when the browser offers no WebGL2 (the caller falls back to Canvas 2D). */
  static create(canvas: HTMLCanvasElement): WebGLRenderer | null {
    // preserveDrawingBuffer keeps the last frame readable (screenshots, tests, copy image).
    const gl = canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false, alpha: false });
    return gl ? new WebGLRenderer(canvas, gl) : null;
  }

  private init(): void {
    const gl = this.gl;
    const ramp = texture(gl, gl.LINEAR);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, RAMP_SIZE, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, buildRamp(COLORMAPS.viridis));
    this.gpu = { programs: new Map(), vao: gl.createVertexArray(), image: null, levels: [], cam: null, ramp, rampColormap: 'viridis' };
    // The plain grey program is the one every image starts with: compile it before the first frame.
    this.programFor({ rgb: false, voi: 'linear', cam: 'none' });
  }

  setImage(image: ViewImage | null): void {
    const max = this.gl.getParameter(this.gl.MAX_TEXTURE_SIZE) as number;
    if (image && (image.width > max || image.height > max)) {
      throw new ApiError({
        code: 'UNSUPPORTED_FORMAT',
        message: `This image is larger than this computer's graphics can show (${max} pixels a side).`,
      });
    }
    this.image = image;
    this.levelData = [];
    this.uploadImage();
  }

  setCam(cam: CamMap | null): void {
    this.cam = cam;
    this.uploadCam();
  }

  private uploadImage(): void {
    const { gl, gpu, image } = this;
    if (!gpu) return;
    if (gpu.image) gl.deleteTexture(gpu.image);
    for (const level of gpu.levels) gl.deleteTexture(level);
    gpu.image = null;
    gpu.levels = [];
    if (!image) return;
    gpu.image = texture(gl, gl.NEAREST);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    if (image.kind === 'grey') {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, image.width, image.height, 0, gl.RED, gl.FLOAT, image.values);
    } else {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, image.width, image.height, 0, gl.RGBA, gl.UNSIGNED_BYTE, image.rgba);
    }
  }

  private uploadCam(): void {
    const { gl, gpu, cam } = this;
    if (!gpu) return;
    if (gpu.cam) gl.deleteTexture(gpu.cam);
    gpu.cam = null;
    if (!cam || cam.values.length < cam.width * cam.height) return;
    gpu.cam = texture(gl, gl.NEAREST);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    const values = Float32Array.from(cam.values.slice(0, cam.width * cam.height));
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, cam.width, cam.height, 0, gl.RED, gl.FLOAT, values);
  }

  private programFor(variant: Variant): Program {
    const gpu = this.gpu as GpuState;
    const key = variantKey(variant);
    let program = gpu.programs.get(key);
    if (!program) {
      program = link(this.gl, variant);
      gpu.programs.set(key, program);
    }
    return program;
  }

  /** The texture to sample at this many device pixels per texel: a halving below 1/2. */
  private textureFor(scale: number): WebGLTexture | null {
    const { gl, gpu, image } = this;
    if (!gpu?.image || !image || image.kind !== 'grey' || scale >= 0.5) return gpu?.image ?? null;
    const want = Math.min(MAX_LEVEL, Math.floor(Math.log2(1 / scale)));
    for (let k = 0; k < want; k++) {
      // Each level is made from the one above it, so a deeper one costs a quarter of the last.
      const above = k === 0 ? image : (this.levelData[k - 1] as Level);
      const level = (this.levelData[k] ??= halve(above.values, above.width, above.height));
      if (gpu.levels[k]) continue;
      const tex = texture(gl, gl.NEAREST);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, level.width, level.height, 0, gl.RED, gl.FLOAT, level.values);
      gpu.levels[k] = tex;
    }
    return gpu.levels[want - 1] ?? gpu.image;
  }

  draw(p: DrawParams): boolean {
    const { gl, gpu, image, cam, canvas } = this;
    if (!gpu || gl.isContextLost()) return false;
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.clearColor(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2], 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!image || !gpu.image) return false;

    // Colour samples take the window on their 0..255 values, with no modality LUT.
    const dp = p.display;
    const voi = image.kind === 'rgb' ? voiAffine(dp.voiFunction, 1, 0, dp.center, dp.width) : voiAffine(dp.voiFunction, dp.slope, dp.intercept, dp.center, dp.width);
    const showCam = p.overlay.visible && cam !== null && gpu.cam !== null;
    const { program, loc } = this.programFor({ rgb: image.kind === 'rgb', voi: voi.shape, cam: !showCam ? 'none' : p.overlay.contour ? 'contour' : 'fill' });
    gl.useProgram(program);
    gl.bindVertexArray(gpu.vao);
    // Canvas pixels (y down) to clip space (y up), after the view's affine map; column-major.
    const { a, b, c, d, e, f } = p.transform;
    const sx = 2 / canvas.width;
    const sy = -2 / canvas.height;
    gl.uniformMatrix3fv(loc.u_matrix, false, [a * sx, b * sy, 0, c * sx, d * sy, 0, e * sx - 1, f * sy + 1, 1]);
    // Geometry is in full-image pixels whatever the texture's size (a reduced frame covers it all).
    gl.uniform2f(loc.u_imageSize, image.fullWidth, image.fullHeight);

    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.textureFor(texelScale(Math.hypot(p.transform.a, p.transform.b), image, { width: image.fullWidth, height: image.fullHeight })));
    gl.uniform1i(loc.u_image, 0);
    gl.uniform1f(loc.u_voiA, voi.a);
    gl.uniform1f(loc.u_voiB, voi.b);
    gl.uniform1f(loc.u_invert, p.display.invert ? 1 : 0);

    if (showCam && cam) {
      gl.activeTexture(gl.TEXTURE1);
      gl.bindTexture(gl.TEXTURE_2D, gpu.cam);
      gl.uniform1i(loc.u_cam, 1);
      gl.uniform2i(loc.u_camSize, cam.width, cam.height);
      const ext = cam.extent;
      gl.uniform4f(loc.u_camExtent, ext.x0, ext.y0, ext.x1, ext.y1);
      gl.activeTexture(gl.TEXTURE2);
      gl.bindTexture(gl.TEXTURE_2D, gpu.ramp);
      if (gpu.rampColormap !== p.overlay.colormap) {
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, RAMP_SIZE, 1, gl.RGBA, gl.UNSIGNED_BYTE, buildRamp(COLORMAPS[p.overlay.colormap]));
        gpu.rampColormap = p.overlay.colormap;
      }
      gl.uniform1i(loc.u_ramp, 2);
      gl.uniform1f(loc.u_opacity, p.overlay.opacity);
      gl.uniform1f(loc.u_threshold, p.overlay.threshold);
    }

    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    return true;
  }

  dispose(): void {
    this.canvas.removeEventListener('webglcontextlost', this.onLost);
    this.canvas.removeEventListener('webglcontextrestored', this.onRestored);
    const { gl, gpu } = this;
    if (!gpu) return;
    gl.deleteTexture(gpu.image);
    for (const level of gpu.levels) gl.deleteTexture(level);
    gl.deleteTexture(gpu.cam);
    gl.deleteTexture(gpu.ramp);
    gl.deleteVertexArray(gpu.vao);
    for (const { program } of gpu.programs.values()) gl.deleteProgram(program);
    this.gpu = null;
  }
}
