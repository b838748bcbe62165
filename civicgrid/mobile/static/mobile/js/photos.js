/*
 * Photos from the phone's camera: shrunk on the phone to at most 1600 px as JPEG before they are
 * kept (a 12-megapixel photo is 4–6 MB, its 1600 px JPEG about 300 kB, so the outbox stays small
 * and a weak connection can carry it), kept as a draft until the form is sent, and shown as
 * thumbnails that can be removed. The server checks and re-encodes every image anyway.
 */

import { h, t } from "./core.js";
import * as store from "./store.js";

export const MAX_SIDE = 1600;
const QUALITY = 0.85;

/** ``file`` as a JPEG Blob no larger than MAX_SIDE on its long side (the file itself if the
 * browser cannot decode it: the server then says whether it is acceptable). */
export async function shrink(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    return file;
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // a transparent PNG becomes white, not black, as a JPEG
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  if (bitmap.close) {
    bitmap.close();
  }
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  return blob || file;
}

/**
 * An ``<input type=file>`` with its thumbnails. ``draft``: the name its photos are kept under
 * until ``clear()``; the input's ``data-max`` limits how many.
 */
export class PhotoField {
  constructor(input, draft) {
    this.input = input;
    this.draft = draft;
    this.max = Number(input.dataset.max || 9);
    this.photos = [];
    this.list = document.getElementById(input.dataset.list) || h("ul", { class: "m-photos" });
    if (!this.list.isConnected) {
      input.closest("label, .m-field, div").after(this.list);
    }
    this.ready = this.restore();
    input.addEventListener("change", () => this.take());
  }

  async restore() {
    const saved = await store.get("drafts", this.draft).catch(() => null);
    this.photos = saved ? saved.photos : [];
    this.render();
  }

  async take() {
    const files = Array.from(this.input.files || []);
    this.input.value = "";
    this.input.closest("form")?.setAttribute("data-busy", "photos");
    for (const file of files.slice(0, Math.max(0, this.max - this.photos.length))) {
      const blob = await shrink(file);
      this.photos.push({ blob, name: (file.name || "photo").replace(/\.\w+$/, "") + ".jpg" });
    }
    this.input.closest("form")?.removeAttribute("data-busy");
    await this.save();
    this.render();
    this.input.dispatchEvent(new CustomEvent("photos", { bubbles: true }));
  }

  save() {
    return store.put("drafts", { name: this.draft, photos: this.photos });
  }

  render() {
    for (const img of this.list.querySelectorAll("img")) {
      URL.revokeObjectURL(img.src);
    }
    this.list.replaceChildren(
      ...this.photos.map((photo, index) =>
        h(
          "li",
          { dataset: { size: photo.blob.size } },
          h("img", { src: URL.createObjectURL(photo.blob), alt: t("photoN", { n: index + 1 }) }),
          h(
            "button",
            {
              type: "button",
              class: "m-photo-remove",
              "aria-label": t("removePhoto"),
              onclick: async () => {
                this.photos.splice(index, 1);
                await this.save();
                this.render();
              },
            },
            "×",
          ),
        ),
      ),
    );
    this.list.dataset.count = String(this.photos.length);
  }

  /** [[field name, Blob, filename], ...] for the outbox. */
  files(field) {
    return this.photos.map((photo) => [field, photo.blob, photo.name]);
  }

  async clear() {
    this.photos = [];
    await store.remove("drafts", this.draft).catch(() => {});
    this.render();
  }
}
