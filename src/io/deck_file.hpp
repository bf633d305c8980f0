// Reading an input deck file. Collective: rank 0 of the communicator alone looks at the file
// system; it decides, and broadcasts either the file's bytes or the one-line reason it refuses
// the file, so that every rank returns the same text or throws the same DeckError, whose
// message starts with the path. Refused: a path that cannot be opened or read (the message
// gives the system's reason), a directory or anything else that is not a regular file (devices,
// FIFOs, sockets; a FIFO is never waited on), and a file larger than kMaxDeckBytes. The bytes
// are returned as they are; parse_deck checks the text.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <string>

namespace latdiff {

// Decks are a few kB; a file this large is not one (an HDF5 output, a log, a core dump).
inline constexpr std::size_t kMaxDeckBytes = std::size_t{1} << 20;

// Collective over `comm`; every rank passes the same path. Throws DeckError on every rank.
std::string read_deck_file(const std::string& path, MPI_Comm comm);

}  // namespace latdiff
