#!/usr/bin/env bash
# System packages the app uses: Tesseract OCR with English and French. Installed when we are root
# with apt; otherwise we say what the app falls back to. Fast when already there.
set -u
need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
# Scanned demo documents are drawn with DejaVu so French accents survive.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
for lang in eng fra; do
  [ -e "/usr/share/tesseract-ocr/5/tessdata/$lang.traineddata" ] || need+=("tesseract-ocr-$lang")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} ..."
  if apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
     || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; }; then
    exit 0
  fi
  echo "Could not install ${need[*]}: OCR will fall back to the engines installed from PyPI, if any."
else
  echo "Tesseract is not installed and this is not a root shell with apt: OCR will fall back to the"
  echo "engines installed from PyPI, if any. To install it: sudo apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra"
fi
exit 0
